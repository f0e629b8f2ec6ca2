/* batch.h - `uzwhisper transcribe` over many files: input discovery (files, folders, manifests),
 * output naming, resume, the failures file, the progress line and the worker pool. The tool uses
 * only the public engine API (uzwhisper.h). See docs/batch.md for the operator's view. */
#ifndef UZW_BATCH_H
#define UZW_BATCH_H

#include <stddef.h>
#include <stdio.h>

#include "output.h"
#include "uzwhisper.h"

/* ---------------------------------------------------------------- inputs (batch_inputs.c) */
typedef struct {
    char *path;     /* the audio file to read                                              */
    char *stem;     /* output name relative to --output-dir, without extension: "sub/name" */
    char *id;       /* manifest "id", or NULL                                              */
    char *language; /* manifest "language", or NULL (the command line's applies)           */
    char *adapter;  /* manifest "adapter" (a --adapter NAME=DIR name), or NULL            */
} batch_item;

typedef struct {
    batch_item *v;
    size_t n, cap;
} batch_list;

/* Audio by extension (case-insensitive): wav flac ogg oga opus mp3 aiff aif au caf w64. */
int batch_is_audio_name(const char *name);
/* A file argument (taken whatever its extension; a missing one fails later, per file) or a folder
 * (walked recursively in sorted order; audio files only; names starting with '.' and symlinked
 * folders are skipped). Output names: a file's base name; a folder's files mirror their path under
 * that folder. keep_ext: keep the audio extension in the output name ("a.wav" -> "a.wav.srt").
 * 0, or -1 with a message in err. */
int batch_add_path(batch_list *l, const char *arg, int keep_ext, char *err, size_t err_size);
/* A JSONL manifest: one object a line with "audio" (relative to the manifest's folder, or
 * absolute) and optional "id" (the output name; may hold '/' for sub-folders, no "..") and
 * "language" and "adapter" (the name of a --adapter NAME=DIR). Blank lines are ignored; any other bad line is an error naming the line. */
int batch_add_manifest(batch_list *l, const char *manifest, int keep_ext, char *err, size_t err_size);
/* Two inputs with the same output name: -1 with both paths in err. */
int batch_check_names(const batch_list *l, char *err, size_t err_size);
void batch_list_free(batch_list *l);
/* Keep items k, k+n, k+2n, ... (in list order); the others are freed. */
void batch_keep_shard(batch_list *l, int k, int n);

/* ---------------------------------------------------------------- output files (batch_files.c) */
/* DIR/stem.ext and DIR/stem.ext.tmp.PID. */
int batch_output_path(char *buf, size_t size, const char *dir, const char *stem, const char *ext);
/* Bit set of the formats in `formats` whose final file DIR/stem.ext does not exist yet. */
unsigned batch_missing_formats(const char *dir, const char *stem, unsigned formats);
/* Create dir (and parents). */
int batch_mkdirs(const char *dir, char *err, size_t err_size);
/* Take DIR/.uzwhisper.lock (flock, released when the process ends): returns the fd, or -1 with a
 * message when another run holds it or it cannot be made. */
int batch_lock_dir(const char *dir, char *err, size_t err_size);
/* Remove every left-over "*.{txt,json,srt,vtt}.tmp.<digits>" under dir (call with the lock held);
 * returns how many were removed. */
long batch_remove_stale_tmp(const char *dir);
/* Write the transcript in each format of `formats` to DIR/stem.ext.tmp.PID, fsync, rename to
 * DIR/stem.ext, then fsync the folder. On error the temporaries are removed and err says why. */
int batch_write_outputs(const char *dir, const char *stem, unsigned formats, const out_result *r, char *err,
                        size_t err_size);

/* The failures file: one JSON object a line, flushed to disk per line. */
typedef struct {
    int fd; /* -1: none */
    const char *path;
} batch_failures;
int batch_failures_open(batch_failures *f, const char *path, char *err, size_t err_size);
/* status_name: "audio", "io", "write", ...; id may be NULL. 0 ok, -1 write error. */
int batch_failures_add(batch_failures *f, const char *path, const char *id, const char *status_name, int code,
                       const char *message);
void batch_failures_close(batch_failures *f);

/* ---------------------------------------------------------------- progress (batch_progress.c) */
typedef struct {
    int live;          /* 1: one line redrawn with \r on stderr; 0: a log line per file */
    int verbose;
    double t0;         /* wall clock at start, seconds */
    double last_draw;
    size_t total;      /* files to transcribe in this run (skipped ones excluded) */
    size_t done, failed;
    double audio_s;    /* seconds of audio transcribed */
    int workers, drawn;
} batch_progress;

double batch_now(void);
void batch_progress_start(batch_progress *p, int live, int verbose, size_t total, int workers);
/* One file finished (ok = 1) or failed (ok = 0, msg = why, naming the file). */
void batch_progress_file(batch_progress *p, const char *path, int ok, double audio_s, double wall_s, const char *msg);
/* Redraw the live line if due (at most every 0.5 s; force = 1: now). */
void batch_progress_tick(batch_progress *p, int force);
/* A message of its own on stderr (the live line is cleared first and redrawn later). */
void batch_progress_note(batch_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clear the live line. */
void batch_progress_end(batch_progress *p);

/* ---------------------------------------------------------------- the run (batch_pool.c) */
typedef struct {
    const char *model_path;
    const char *output_dir;    /* NULL: results go to stdout                          */
    unsigned formats;          /* OUT_FMT_* bits, with output_dir                      */
    int as_json;               /* stdout: JSON lines instead of text                   */
    int resume;                /* 1: skip inputs whose outputs all exist               */
    const char *failures_path; /* NULL: no failures file                               */
    int workers, threads;      /* 0: sized to the machine                              */
    int live_progress;         /* 1: the \r line, 0: log lines (batch mode only)        */
    int verbose;
    int mark_switches;         /* txt: mark code-switch points ("[ru] ")               */
    uzw_params params;         /* language/task/... for every file (manifest overrides) */
    const char *device;        /* "cpu" (or NULL/""), "cuda", "cuda:N" */
    const struct cli_adapters_s *adapters; /* NULL: none (cli_adapters.h) */
} batch_config;

typedef struct {
    size_t total, skipped, done, failed, not_started;
    double audio_s, wall_s;
    int interrupted;    /* SIGINT / SIGTERM arrived */
    int internal_error; /* out of memory, or an output could not be written */
} batch_summary;

/* Transcribe every item with the shared model; returns the process exit code (0, 3, 4 or 130). */
int batch_run(const batch_config *cfg, const uzw_model *model, batch_list *items, batch_summary *sum);

#endif
