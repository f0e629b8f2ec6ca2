/*
 * protocol.h - the uzw-stream/1 raw-TCP streaming protocol as a pure codec: no sockets, no threads,
 * no global state. docs/protocol.md is the normative spec; this header is its C form.
 *
 *   client -> server: binary frames  [type: 1 byte][length: u32 little-endian][payload: length bytes]
 *                     HELLO (JSON options) first, then AUDIO / PING frames, then END.
 *   server -> client: JSON lines, one object per '\n'-terminated line, each with a "type":
 *                     ready, interim, final, error, pong, end.
 *
 * Pieces (one file each):
 *   protocol_frame.c - the incremental frame decoder (server side) and the frame encoder (client side)
 *   protocol_hello.c - HELLO options: strict JSON parsing and validation, and the client's encoder
 *   protocol_pcm.c   - AUDIO payload (s16le / f32le, 1 or 2 channels) -> mono float samples
 *   protocol_msg.c   - the server's JSON-line encoders
 *   protocol_check.c - a validator of server lines against the spec (the client and conformance tests)
 *
 * Errors: functions return 0 (or a count) on success and -1 on failure with a message in
 * (err, err_size); a NULL err is allowed. Every protocol error maps to one uzs_error_code whose
 * name is the "code" of the error line the server sends.
 */
#ifndef UZS_PROTOCOL_H
#define UZS_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- constants */

#define UZS_PROTOCOL_NAME "uzw-stream/1"     /* the HELLO "protocol" value this codec speaks */
#define UZS_FRAME_HEADER_BYTES 5             /* type (1) + payload length (4, little-endian) */
#define UZS_MAX_HELLO_BYTES 65536u           /* largest HELLO payload (JSON), inclusive      */
#define UZS_MAX_AUDIO_FRAME_BYTES 1048576u   /* largest AUDIO payload (1 MiB), inclusive     */

#define UZS_MIN_SAMPLE_RATE 8000             /* Hz, inclusive */
#define UZS_MAX_SAMPLE_RATE 48000            /* Hz, inclusive */
#define UZS_MAX_CHANNELS 2
#define UZS_MAX_LANG_CODE 8                  /* bytes incl. NUL: codes are 2-3 lowercase letters */
#define UZS_MAX_LANGUAGES 16                 /* codes in "languages"                            */
#define UZS_MAX_LANGUAGES_TEXT 64            /* bytes incl. NUL of the "languages" string       */
#define UZS_MAX_ADAPTER_NAME 65              /* bytes incl. NUL: [A-Za-z0-9._-], 1..64 bytes     */
#define UZS_MAX_API_KEY 4097                 /* bytes incl. NUL: 1..4096 bytes (a key or a JWT)  */
#define UZS_MAX_CLIENT_ID 129                /* bytes incl. NUL: 1..128 bytes, no control chars  */

/* ---------------------------------------------------------------- error codes */

/* The "code" of a server error line. Names are stable across protocol versions. */
typedef enum {
    UZS_ERR_NONE = 0,
    UZS_ERR_BAD_FRAME,     /* "bad_frame": unknown type, frame out of order, bad length for its type */
    UZS_ERR_TOO_LARGE,     /* "too_large": a frame, or the stream, over a limit                      */
    UZS_ERR_BAD_HELLO,     /* "bad_hello": HELLO not valid JSON, a field missing/wrong, other version */
    UZS_ERR_BAD_AUDIO,     /* "bad_audio": a NaN or infinite f32 sample                               */
    UZS_ERR_UNAUTHORIZED,  /* "unauthorized": api_key missing, unknown, or a JWT bad or expired        */
    UZS_ERR_UNSUPPORTED,   /* "unsupported": valid options this server cannot serve (no such adapter, */
                           /* a language the model does not know, translate on an English model)     */
    UZS_ERR_OVERLOADED,    /* "overloaded": too many connections, or the queue is full                */
    UZS_ERR_TIMEOUT,       /* "timeout": idle too long, or the session longer than allowed            */
    UZS_ERR_SHUTTING_DOWN, /* "shutting_down": the server is stopping and takes no new streams        */
    UZS_ERR_INTERNAL,      /* "internal": a failure inside the server (its message says which)        */
    UZS_ERR_COUNT
} uzs_error_code;

/* "bad_frame", ...; "none" for UZS_ERR_NONE; NULL for a value out of range. */
const char *uzs_error_code_name(uzs_error_code code);
/* The code of a name; UZS_ERR_NONE when the name is not one of them. */
uzs_error_code uzs_error_code_from_name(const char *name);

/* ---------------------------------------------------------------- frames */

typedef enum {
    UZS_FRAME_HELLO = 0x01, /* payload: UTF-8 JSON object, length <= UZS_MAX_HELLO_BYTES            */
    UZS_FRAME_AUDIO = 0x02, /* payload: PCM in the HELLO's format, a whole number of sample frames,   */
                            /* 0 <= length <= UZS_MAX_AUDIO_FRAME_BYTES                               */
    UZS_FRAME_END = 0x03,   /* payload: empty. End of the audio; nothing may follow                   */
    UZS_FRAME_PING = 0x04,  /* payload: empty. The server answers with a "pong" line                  */
} uzs_frame_type;

/* "HELLO", "AUDIO", "END", "PING"; NULL for any other value. */
const char *uzs_frame_type_name(int type);

typedef struct {
    uzs_frame_type type;
    const uint8_t *payload; /* [len] bytes; valid until the next call on the decoder and while the */
    uint32_t len;           /* bytes last passed to it are (it may point into them)               */
    uint64_t index;         /* 0-based position of this frame in the stream                       */
} uzs_frame;

/* The incremental decoder of the client's byte stream. Feed it chunks split anywhere (inside a
 * header too); it yields whole frames in order and checks their order: exactly one HELLO first;
 * AUDIO, PING and END only after it; nothing after END. Payload bytes are copied only when a frame
 * spans chunks, into one buffer that grows up to the largest frame allowed (memory is bounded by
 * UZS_MAX_AUDIO_FRAME_BYTES). After an error it stays failed and repeats the error. Embed it by
 * value; one decoder per connection (not shared between threads). */
typedef struct {
    int phase;              /* internal: 0 wants HELLO, 1 streaming, 2 after END, 3 failed            */
    uint8_t hdr[UZS_FRAME_HEADER_BYTES];
    uint32_t hdr_have;      /* header bytes received of the frame in progress                         */
    uint32_t need;          /* payload length of the frame in progress (once its header is complete) */
    uint32_t have;          /* payload bytes of it copied into buf                                   */
    uint8_t *buf;           /* [cap] assembly buffer for frames that span chunks                     */
    uint32_t cap;
    uint32_t frame_bytes;   /* bytes per sample frame (channels * sample size); 0 until set          */
    uint64_t offset;        /* bytes consumed so far (error messages give positions)                 */
    uint64_t n_frames;      /* frames yielded so far                                                 */
    uint64_t audio_bytes;   /* AUDIO payload bytes yielded so far                                    */
    uzs_error_code error;   /* set once failed                                                       */
    char message[256];      /* the failure, repeated by every later call                             */
} uzs_frame_decoder;

void uzs_frame_decoder_init(uzs_frame_decoder *d);
/* Release the buffer; the decoder may be initialised again. */
void uzs_frame_decoder_free(uzs_frame_decoder *d);
/* Bytes per sample frame of the accepted HELLO (uzs_hello.frame_bytes): from now on an AUDIO
 * payload whose length is not a multiple of it is an error. 0 turns the check off. */
void uzs_frame_decoder_set_frame_bytes(uzs_frame_decoder *d, uint32_t frame_bytes);
/* Consume bytes from (*data, *len), advancing both, until a frame is complete or the input is used
 * up. Returns 1 with the frame in *out (the rest of the input is left for the next call), 0 when
 * all input was consumed without completing a frame, or -1 on a protocol error with its message
 * in err and its code in uzs_frame_decoder_error(d). */
int uzs_frame_decoder_next(uzs_frame_decoder *d, const uint8_t **data, size_t *len, uzs_frame *out,
                           char *err, size_t err_size);
/* The code of the failure (UZS_ERR_BAD_FRAME, UZS_ERR_TOO_LARGE, or UZS_ERR_INTERNAL when the
 * buffer could not be allocated), or UZS_ERR_NONE. */
uzs_error_code uzs_frame_decoder_error(const uzs_frame_decoder *d);
/* Call when the peer has closed its side: 0 when the stream ended cleanly (END received, no partial
 * frame after it), -1 with a message saying what was missing (no END, a frame cut short: how many
 * of how many bytes arrived). */
int uzs_frame_decoder_eof(const uzs_frame_decoder *d, char *err, size_t err_size);

/* Client side. Write the 5-byte header of a frame with a payload of len bytes; -1 (and a message)
 * when the type is unknown or len is over the type's limit or END/PING would carry a payload. */
int uzs_frame_header(uint8_t out[UZS_FRAME_HEADER_BYTES], uzs_frame_type type, size_t len, char *err,
                     size_t err_size);
/* Header + payload into out (cap bytes). Returns the bytes written, or -1 (bad frame as above, or
 * cap too small). */
long uzs_frame_encode(uzs_frame_type type, const void *payload, size_t len, uint8_t *out, size_t cap,
                      char *err, size_t err_size);

/* ---------------------------------------------------------------- HELLO options */

typedef enum { UZS_PCM_S16LE = 0, UZS_PCM_F32LE = 1 } uzs_pcm_format;
typedef enum { UZS_TASK_TRANSCRIBE = 0, UZS_TASK_TRANSLATE = 1 } uzs_task;
typedef enum { UZS_SCRIPT_LATIN = 0, UZS_SCRIPT_CYRILLIC = 1, UZS_SCRIPT_AS_DECODED = 2 } uzs_uz_script;

/* The options of a HELLO, defaults filled in. Strings are NUL-terminated; an absent or null
 * optional string is "". Sizes are bytes including the NUL. */
typedef struct {
    int sample_rate;                        /* Hz, UZS_MIN_SAMPLE_RATE..UZS_MAX_SAMPLE_RATE (required) */
    uzs_pcm_format format;                  /* "s16le" | "f32le" (required)                           */
    int channels;                           /* 1 | 2 (default 1); interleaved                         */
    char language[UZS_MAX_LANG_CODE];       /* "auto" (default) or a code ("uz")                      */
    char languages[UZS_MAX_LANGUAGES_TEXT]; /* allowed set "uz,ru" as sent; "" = the server default   */
    char adapter[UZS_MAX_ADAPTER_NAME];     /* a server-side adapter name; "" = none                  */
    int interim;                            /* 1 (default): send interim lines; 0: finals only        */
    int word_timestamps;                    /* 1 (default): finals carry words; 0: words are []       */
    uzs_task task;                          /* "transcribe" (default) | "translate"                   */
    uzs_uz_script uz_script;                /* "latin" (default) | "cyrillic" | "as_decoded"          */
    char api_key[UZS_MAX_API_KEY];          /* "" = none sent                                         */
    char id[UZS_MAX_CLIENT_ID];             /* the client's own label for the stream; "" = none       */
    uint32_t frame_bytes;                   /* derived: channels * (2 for s16le, 4 for f32le)         */
} uzs_hello;

/* The defaults: sample_rate 16000, s16le, mono, "auto", interim and word timestamps on, transcribe,
 * Latin, no key, adapter, languages or id. */
void uzs_hello_defaults(uzs_hello *h);
/* Parse and check a HELLO payload (docs/protocol.md, "HELLO"): a JSON object, duplicate keys
 * refused, unknown keys refused (a typo must not be silently ignored), "protocol" must be
 * UZS_PROTOCOL_NAME, every field of the right type and range. 0, or -1 with a message naming the
 * field (code UZS_ERR_BAD_HELLO); *out is fully written either way (defaults on failure). */
int uzs_hello_parse(const void *json, size_t len, uzs_hello *out, char *err, size_t err_size);
/* The HELLO JSON of h (client side; "protocol" added, api_key/id/languages/adapter written as null
 * when empty). malloc'ed, NUL-terminated, length in *len (may be NULL). NULL with a message when h
 * would not pass uzs_hello_parse, or when out of memory. */
char *uzs_hello_encode(const uzs_hello *h, size_t *len, char *err, size_t err_size);
/* Overwrite the api_key in memory (call once the key has been checked). */
void uzs_hello_forget_key(uzs_hello *h);
/* "s16le" / "f32le", "transcribe" / "translate", "latin" / "cyrillic" / "as_decoded". */
const char *uzs_pcm_format_name(uzs_pcm_format f);
const char *uzs_task_name(uzs_task t);
const char *uzs_uz_script_name(uzs_uz_script s);

/* ---------------------------------------------------------------- PCM */

/* Bytes per sample frame: channels * (2 | 4); 0 for a bad format or channel count. */
uint32_t uzs_pcm_frame_bytes(uzs_pcm_format format, int channels);
/* Convert an AUDIO payload (interleaved little-endian PCM) into mono float samples at the stream's
 * rate: s16 v -> v / 32768 (so -32768 -> -1, 32767 -> 32767/32768); f32 taken as is, clamped to
 * [-1, 1]; channels averaged exactly as the engine's file path does (engine/audio/downmix.h).
 * mono must have room for len / frame_bytes floats. Returns the number of sample frames written,
 * or -1 when len is not a whole number of frames, the format is bad, or an f32 sample is NaN or
 * infinite (the message gives the frame and channel; code UZS_ERR_BAD_AUDIO). */
long uzs_pcm_to_mono(uzs_pcm_format format, int channels, const void *payload, size_t len, float *mono,
                     char *err, size_t err_size);

/* ---------------------------------------------------------------- server messages (JSON lines) */

/* Every encoder returns a malloc'ed, NUL-terminated line ending in '\n' (length in *len, which may
 * be NULL), or NULL when out of memory or given a NULL message. Times are seconds from the first
 * sample of the stream, rounded to the millisecond; probabilities are rounded to 6 decimals; a
 * non-finite number is written as null. Text that is not valid UTF-8 (a token boundary inside a
 * character) has each bad byte replaced by U+FFFD. A NULL string is written as "" where the spec
 * requires a string, as null where it allows null. */

typedef struct {
    const char *session;          /* the server's id for this stream                         */
    const uzs_hello *hello;       /* the accepted options, defaults and server choices applied */
                                  /* (the server may fill languages with its default set)     */
    const char *model;            /* the model type ("base", ...) or NULL                     */
    double max_audio_seconds;     /* limits of this server; <= 0 or non-finite: none (null)   */
    double idle_timeout_seconds;
    double max_session_seconds;
} uzs_ready;
char *uzs_msg_ready(const uzs_ready *r, size_t *len);

typedef struct {
    const char *stable;   /* text that will not change: a prefix of the finals to come      */
    const char *unstable; /* the tail that may still change                                  */
    double start, end;    /* seconds: audio the hypothesis covers                            */
    const char *language; /* code, or NULL (written as null) while undetected                */
} uzs_interim;
char *uzs_msg_interim(const uzs_interim *m, size_t *len);

typedef struct {
    const char *word;     /* with Whisper's leading space */
    double start, end;    /* seconds */
    float prob;
    const char *language;
} uzs_word;

typedef struct {
    double time;          /* seconds: start of the first word in the new language */
    const char *from, *to;
} uzs_switch;

typedef struct {
    uint64_t seq;         /* 0, 1, 2, ... in the order sent */
    const char *text;
    double start, end;    /* seconds */
    const char *language; /* NULL: unknown (null) */
    float language_prob;  /* NaN: unknown (null) */
    const uzs_word *words; /* [n_words] in time order, inside [start, end] */
    int n_words;
    const uzs_switch *switches; /* [n_switches] in time order, inside [start, end] */
    int n_switches;
} uzs_final;
char *uzs_msg_final(const uzs_final *m, size_t *len);

/* start/end: the span of received audio this error leaves untranscribed (seconds); pass a
 * negative or non-finite start to leave both out (an error before any audio). */
char *uzs_msg_error(uzs_error_code code, const char *message, int fatal, double start, double end,
                    size_t *len);

char *uzs_msg_pong(double received_seconds, size_t *len);

typedef struct {
    double audio_seconds;       /* received */
    double transcribed_seconds; /* went through the recogniser (silence included)              */
    double error_seconds;       /* covered by non-fatal error lines: audio = transcribed + error */
    uint64_t n_finals;
    double wall_seconds;        /* from the ready line to this one                             */
    double compute_seconds;     /* recogniser time spent on this stream                        */
    double latency_p50, latency_p95; /* seconds from a word's end arriving to its final; NaN: no words */
} uzs_end;
char *uzs_msg_end(const uzs_end *m, size_t *len);

/* ---------------------------------------------------------------- checking server lines */

typedef enum {
    UZS_MSG_UNKNOWN = 0,
    UZS_MSG_READY,
    UZS_MSG_INTERIM,
    UZS_MSG_FINAL,
    UZS_MSG_ERROR,
    UZS_MSG_PONG,
    UZS_MSG_END,
} uzs_msg_type;

/* "ready", "interim", ...; NULL for UZS_MSG_UNKNOWN. */
const char *uzs_msg_type_name(uzs_msg_type t);

/* Check one server line (without or with its '\n') against the spec: one JSON object, a known
 * "type", every required field present with its type and range, times ordered (start <= end,
 * words and switches in order inside the segment). Returns the type, or UZS_MSG_UNKNOWN (0) with a
 * message. Checks a line on its own; the order of lines is the reader's to check. */
uzs_msg_type uzs_msg_check(const char *line, size_t len, char *err, size_t err_size);

#endif /* UZS_PROTOCOL_H */
