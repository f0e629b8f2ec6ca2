/*
 * model_load.c - map a .uzw file, check it holds a complete, consistent Whisper model, and bind
 * every tensor to its slot. Every problem becomes a message naming the key or tensor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "model/model.h"

uzw_model_params uzw_model_default_params(void) {
    uzw_model_params p = {0};
    return p;
}

/* ---------------------------------------------------------------- metadata */

static int meta_i32(const uzw_model *m, const char *key, int *out, char *err, size_t es) {
    int32_t v;
    if (uzw_meta_get_i32(&m->wf, key, &v, err, es) != 0) return -1;
    *out = v;
    return 0;
}

/* Copy an i32 array record; requires count % mult == 0 and every value in [lo, hi]. */
static int meta_i32_arr(const uzw_model *m, const char *key, int mult, int lo, int hi, int32_t **out, int *n,
                        char *err, size_t es) {
    const uzw_meta *md = uzw_wfile_meta(&m->wf, key);
    if (!md) return uzw_errf(err, es, "model file lacks metadata '%s'", key);
    if (md->type != UZW_MT_I32_ARR) return uzw_errf(err, es, "metadata '%s' is not an i32 array", key);
    if (md->count % (uint32_t)mult) return uzw_errf(err, es, "metadata '%s' has %u values, not a multiple of %d", key, md->count, mult);
    int32_t *a = malloc(sizeof(int32_t) * (md->count ? md->count : 1));
    if (!a) return uzw_errf(err, es, "out of memory reading '%s'", key);
    for (uint32_t i = 0; i < md->count; i++) {
        a[i] = uzw_meta_i32_at(md, i);
        if (a[i] < lo || a[i] > hi) {
            int32_t bad = a[i];
            free(a);
            return uzw_errf(err, es, "metadata '%s'[%u] = %d is outside [%d, %d]", key, i, bad, lo, hi);
        }
    }
    *out = a;
    *n = (int)md->count;
    return 0;
}

static int load_specials(uzw_model *m, char *err, size_t es) {
    uzw_specials *s = &m->sp;
    const struct { const char *key; int *dst; } keys[] = {
        {UZW_K_TOK_EOT, &s->eot}, {UZW_K_TOK_SOT, &s->sot}, {UZW_K_TOK_FIRST_LANG, &s->first_lang},
        {UZW_K_TOK_TRANSLATE, &s->translate}, {UZW_K_TOK_TRANSCRIBE, &s->transcribe},
        {UZW_K_TOK_SOT_LM, &s->sot_lm}, {UZW_K_TOK_SOT_PREV, &s->sot_prev},
        {UZW_K_TOK_NO_SPEECH, &s->no_speech}, {UZW_K_TOK_NO_TIMESTAMPS, &s->no_timestamps},
        {UZW_K_TOK_TS_BEGIN, &s->timestamp_begin},
    };
    int V = m->dims.n_vocab;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (meta_i32(m, keys[i].key, keys[i].dst, err, es) != 0) return -1;
        if (*keys[i].dst < 0 || *keys[i].dst >= V)
            return uzw_errf(err, es, "special token '%s' = %d is outside the vocabulary (%d)", keys[i].key, *keys[i].dst, V);
    }
    /* Whisper's order: EOT, SOT, languages, translate, transcribe, sot_lm, sot_prev, no_speech,
     * no_timestamps, then 1501 timestamps ending the vocabulary. */
    s->n_languages = s->translate - s->first_lang;
    if (s->sot != s->eot + 1 || s->first_lang != s->sot + 1 || s->n_languages < 0 ||
        s->n_languages > UZW_MAX_LANGUAGES || s->transcribe != s->translate + 1 || s->sot_lm != s->transcribe + 1 ||
        s->sot_prev != s->sot_lm + 1 || s->no_speech != s->sot_prev + 1 || s->no_timestamps != s->no_speech + 1 ||
        s->timestamp_begin != s->no_timestamps + 1 || s->timestamp_begin + 1501 != V)
        return uzw_errf(err, es, "special token ids are inconsistent (eot %d, sot %d, translate %d, timestamp_begin %d, vocab %d)",
                        s->eot, s->sot, s->translate, s->timestamp_begin, V);

    const uzw_meta *lc = uzw_wfile_meta(&m->wf, UZW_K_LANG_CODES);
    if (!lc || lc->type != UZW_MT_BYTES_ARR) return uzw_errf(err, es, "model file lacks the language table '%s'", UZW_K_LANG_CODES);
    if ((int)lc->count != s->n_languages)
        return uzw_errf(err, es, "language table has %u codes but the special ids imply %d", lc->count, s->n_languages);
    const uint8_t *p = lc->value, *end = lc->value + lc->value_bytes;
    for (int i = 0; i < s->n_languages; i++) {
        uint32_t len;
        if (end - p < 4) return uzw_errf(err, es, "language table is truncated");
        memcpy(&len, p, 4);
        p += 4;
        if (len == 0 || len >= sizeof m->lang_codes[0] || (uint64_t)(end - p) < len)
            return uzw_errf(err, es, "language code %d has a bad length (%u)", i, len);
        memcpy(m->lang_codes[i], p, len);
        m->lang_codes[i][len] = 0;
        p += len;
    }
    return 0;
}

static int load_vocab(uzw_model *m, char *err, size_t es) {
    const uzw_meta *v = uzw_wfile_meta(&m->wf, UZW_K_VOCAB);
    if (!v || v->type != UZW_MT_BYTES_ARR) return uzw_errf(err, es, "model file lacks the vocabulary '%s'", UZW_K_VOCAB);
    if ((int)v->count != m->sp.eot)
        return uzw_errf(err, es, "vocabulary has %u BPE tokens but EOT is %d (they must be equal)", v->count, m->sp.eot);
    m->n_bpe = (int)v->count;
    m->vocab = malloc(sizeof(*m->vocab) * (size_t)(m->n_bpe ? m->n_bpe : 1));
    m->vocab_len = malloc(sizeof(*m->vocab_len) * (size_t)(m->n_bpe ? m->n_bpe : 1));
    if (!m->vocab || !m->vocab_len) return uzw_errf(err, es, "out of memory for the vocabulary");
    const uint8_t *p = v->value, *end = v->value + v->value_bytes;
    for (int i = 0; i < m->n_bpe; i++) {
        uint32_t len;
        if (end - p < 4) return uzw_errf(err, es, "vocabulary is truncated at token %d", i);
        memcpy(&len, p, 4);
        p += 4;
        if ((uint64_t)(end - p) < len) return uzw_errf(err, es, "vocabulary token %d overruns its record", i);
        m->vocab[i] = p;
        m->vocab_len[i] = len;
        p += len;
    }
    int32_t *merges = NULL;
    int n_merges = 0;
    if (meta_i32_arr(m, UZW_K_MERGES, 2, 0, m->n_bpe - 1, &merges, &n_merges, err, es) != 0) return -1;
    int rc = uzw_tokenizer_new(m->n_bpe, (const uint8_t *const *)m->vocab, m->vocab_len, merges, n_merges / 2, &m->tok, err, es);
    free(merges); /* the tokenizer keeps its own merge table */
    return rc;
}

static int load_tables(uzw_model *m, char *err, size_t es) {
    int V = m->dims.n_vocab;
    if (meta_i32_arr(m, UZW_K_SUPPRESS, 1, 0, V - 1, &m->suppress, &m->n_suppress, err, es) != 0) return -1;
    if (meta_i32_arr(m, UZW_K_SUPPRESS_BEGIN, 1, 0, V - 1, &m->suppress_begin, &m->n_suppress_begin, err, es) != 0) return -1;
    int maxl = m->dims.n_text_layer > m->dims.n_text_head ? m->dims.n_text_layer : m->dims.n_text_head;
    if (meta_i32_arr(m, UZW_K_ALIGN_HEADS, 2, 0, maxl - 1, &m->align_heads, &m->n_align_heads, err, es) != 0) return -1;
    m->n_align_heads /= 2;
    for (int i = 0; i < m->n_align_heads; i++)
        if (m->align_heads[2 * i] >= m->dims.n_text_layer || m->align_heads[2 * i + 1] >= m->dims.n_text_head)
            return uzw_errf(err, es, "alignment head (%d, %d) does not exist", m->align_heads[2 * i], m->align_heads[2 * i + 1]);

    const uzw_meta *mf = uzw_wfile_meta(&m->wf, UZW_K_MEL_FILTERS);
    size_t nf = (size_t)m->dims.n_mels * UZW_N_FREQ;
    if (!mf || mf->type != UZW_MT_F32_ARR) return uzw_errf(err, es, "model file lacks the mel filterbank '%s'", UZW_K_MEL_FILTERS);
    if (mf->count != nf) return uzw_errf(err, es, "mel filterbank has %u values, expected %d x %d", mf->count, m->dims.n_mels, UZW_N_FREQ);
    m->mel_filters = malloc(sizeof(float) * nf);
    if (!m->mel_filters) return uzw_errf(err, es, "out of memory");
    for (size_t i = 0; i < nf; i++) m->mel_filters[i] = uzw_meta_f32_at(mf, (uint32_t)i);

    const struct { const char *key; char *dst; size_t cap; int required; } strs[] = {
        {UZW_K_MODEL_TYPE, m->type, sizeof m->type, 0}, {UZW_K_DTYPE, m->dtype, sizeof m->dtype, 0},
        {UZW_K_SRC_FORMAT, m->source_format, sizeof m->source_format, 0},
        {UZW_K_SRC_SHA256, m->source_sha256, sizeof m->source_sha256, 0},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const char *s;
        uint32_t len;
        if (uzw_meta_get_str(&m->wf, strs[i].key, &s, &len, NULL, 0) != 0) continue;
        size_t n = len < strs[i].cap - 1 ? len : strs[i].cap - 1;
        memcpy(strs[i].dst, s, n);
        strs[i].dst[n] = 0;
    }
    /* adapters merged in by the converter ("name:sha256,..."): their names */
    const char *sa;
    uint32_t salen;
    if (uzw_meta_get_str(&m->wf, UZW_K_SRC_ADAPTERS, &sa, &salen, NULL, 0) == 0) {
        size_t o = 0;
        int in_name = 1;
        for (uint32_t i = 0; i < salen && o + 1 < sizeof m->adapters_merged; i++) {
            if (sa[i] == ':') in_name = 0;
            else if (sa[i] == ',') in_name = 1, m->adapters_merged[o++] = ',';
            else if (in_name) m->adapters_merged[o++] = sa[i];
        }
        m->adapters_merged[o] = 0;
    }
    return 0;
}

/* ---------------------------------------------------------------- tensors */

/* ---------------------------------------------------------------- int8 matrices */

/* W8A8 multiplies with int8 activations where the product has many rows: the encoder's matrices
 * and the cross-attention K/V projections of the encoder output (1500 rows each). */
static int takes_a8(const uzw_model *m, const char *name) {
    if (m->quant != UZW_QUANT_W8A8) return 0;
    size_t n = strlen(name);
    return !strncmp(name, "enc.", 4) || (n > 15 && (!strcmp(name + n - 15, ".xattn.k.weight") ||
                                                   !strcmp(name + n - 15, ".xattn.v.weight")));
}

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

static int load_scheme(uzw_model *m, char *err, size_t es) {
    const char *s;
    uint32_t len;
    m->quant = UZW_QUANT_NONE;
    if (uzw_meta_get_str(&m->wf, UZW_K_QUANT_SCHEME, &s, &len, NULL, 0) != 0) return 0;
    if (len == 5 && !memcmp(s, "w8a16", 5)) m->quant = UZW_QUANT_W8A16;
    else if (len == 4 && !memcmp(s, "w8a8", 4)) m->quant = UZW_QUANT_W8A8;
    else return uzw_errf(err, es, "metadata '%s' = '%.*s': known schemes are w8a16 and w8a8", UZW_K_QUANT_SCHEME,
                         (int)(len < 32 ? len : 32), s);
    return 0;
}

/* An int8 tensor: allowed here, with a scheme, finite non-negative scales and no -128. */
static int check_int8(uzw_model *m, const uzw_tensor *t, const char *name, char *err, size_t es) {
    if (!uzw_schema_quantisable(name))
        return uzw_errf(err, es, "tensor '%s' is int8; only linear-layer weights and dec.tok_emb may be", name);
    if (m->quant == UZW_QUANT_NONE)
        return uzw_errf(err, es, "tensor '%s' is int8 but the file has no '%s' (w8a16 or w8a8)", name, UZW_K_QUANT_SCHEME);
    char sname[UZW_MAX_NAME + 8];
    snprintf(sname, sizeof sname, "%s.scale", name);
    const uzw_tensor *sc = uzw_wfile_tensor(&m->wf, sname);
    if (!sc || sc->dtype != UZW_DT_F32 || sc->n_dims != 1 || sc->dims[0] != t->dims[0]) /* the reader checks this too */
        return uzw_errf(err, es, "tensor '%s' lacks its f32 scale '%s' of shape [%lld]", name, sname, (long long)t->dims[0]);
    int O = (int)t->dims[0], I = (int)t->dims[1];
    if (uzw_qmat_validate((const int8_t *)t->data, (const float *)sc->data, O, I, name, err, es) != 0) return -1;
    if (takes_a8(m, name)) m->qarena_bytes += align64(uzw_qpack_bytes(O, I)) + align64(sizeof(int32_t) * (size_t)O);
    return 0;
}

/* Check every canonical tensor against the schema, count the floats f16/bf16 tensors need and
 * the bytes of the W8A8 panels. */
static int check_tensors(uzw_model *m, char *err, size_t es) {
    int n = uzw_schema_count(&m->dims);
    m->arena_floats = 0;
    m->qarena_bytes = 0;
    for (int i = 0; i < n; i++) {
        char name[UZW_MAX_NAME];
        int nd;
        int64_t dims[UZW_MAX_DIMS];
        uzw_schema_get(&m->dims, i, name, &nd, dims);
        const uzw_tensor *t = uzw_wfile_tensor(&m->wf, name);
        if (!t) return uzw_errf(err, es, "model file lacks tensor '%s'", name);
        int ok = t->n_dims == nd;
        for (int d = 0; ok && d < nd; d++) ok = t->dims[d] == dims[d];
        if (!ok) {
            char want[96] = "", got[96] = "";
            for (int d = 0; d < nd; d++) snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", d ? "," : "", (long long)dims[d]);
            for (int d = 0; d < t->n_dims; d++) snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? "," : "", (long long)t->dims[d]);
            return uzw_errf(err, es, "tensor '%s' has shape [%s], expected [%s] for these model dimensions", name, got, want);
        }
        if (t->dtype == UZW_DT_I8) {
            if (check_int8(m, t, name, err, es) != 0) return -1;
        } else if (t->dtype != UZW_DT_F32) {
            size_t numel = 1;
            for (int d = 0; d < nd; d++) numel *= (size_t)dims[d];
            m->arena_floats += numel;
        }
    }
    return 0;
}

static const float *bind(uzw_model *m, const char *name, size_t *arena_used) {
    const uzw_tensor *t = uzw_wfile_tensor(&m->wf, name);
    if (t->dtype == UZW_DT_F32) return (const float *)t->data;
    float *dst = m->arena + *arena_used;
    *arena_used += t->nbytes / uzw_dtype_size(t->dtype);
    return uzw_tensor_as_f32(t, dst);
}

/* A weight matrix: float (in place or widened), or int8 + scales in place, plus its W8A8 panels. */
static uzw_wmat bind_mat(uzw_model *m, const char *name, size_t *arena_used, size_t *qarena_used) {
    const uzw_tensor *t = uzw_wfile_tensor(&m->wf, name);
    uzw_wmat w = {.rows = (int)t->dims[0], .cols = (int)t->dims[1], .isa = m->isa};
    if (t->dtype != UZW_DT_I8) {
        w.f = bind(m, name, arena_used);
        return w;
    }
    char sname[UZW_MAX_NAME + 8];
    snprintf(sname, sizeof sname, "%s.scale", name);
    w.q = (const int8_t *)t->data;
    w.scale = (const float *)uzw_wfile_tensor(&m->wf, sname)->data;
    if (takes_a8(m, name)) {
        int8_t *pack = (int8_t *)m->qarena + *qarena_used;
        *qarena_used += align64(uzw_qpack_bytes(w.rows, w.cols));
        int32_t *qsum = (int32_t *)((char *)m->qarena + *qarena_used);
        *qarena_used += align64(sizeof(int32_t) * (size_t)w.rows);
        uzw_qmat_pack(w.q, w.rows, w.cols, pack, qsum);
        w.pack = pack;
        w.qsum = qsum;
        w.a8 = 1;
    }
    return w;
}

static void bind_layer(uzw_model *m, uzw_layer *L, const char *pre, int cross, size_t *used, size_t *qused) {
    char n[UZW_MAX_NAME];
#define B(field, suffix) (snprintf(n, sizeof n, "%s.%s", pre, suffix), L->field = bind(m, n, used))
#define W(field, suffix) (snprintf(n, sizeof n, "%s.%s", pre, suffix), L->field = bind_mat(m, n, used, qused))
    B(attn_ln_w, "attn_ln.weight"); B(attn_ln_b, "attn_ln.bias");
    W(q_w, "attn.q.weight"); B(q_b, "attn.q.bias"); W(k_w, "attn.k.weight");
    W(v_w, "attn.v.weight"); B(v_b, "attn.v.bias"); W(o_w, "attn.o.weight"); B(o_b, "attn.o.bias");
    if (cross) {
        B(xattn_ln_w, "xattn_ln.weight"); B(xattn_ln_b, "xattn_ln.bias");
        W(xq_w, "xattn.q.weight"); B(xq_b, "xattn.q.bias"); W(xk_w, "xattn.k.weight");
        W(xv_w, "xattn.v.weight"); B(xv_b, "xattn.v.bias"); W(xo_w, "xattn.o.weight"); B(xo_b, "xattn.o.bias");
    }
    B(mlp_ln_w, "mlp_ln.weight"); B(mlp_ln_b, "mlp_ln.bias");
    W(fc1_w, "fc1.weight"); B(fc1_b, "fc1.bias"); W(fc2_w, "fc2.weight"); B(fc2_b, "fc2.bias");
#undef B
#undef W
}

static int bind_all(uzw_model *m, char *err, size_t es) {
    if (m->arena_floats) {
        m->arena = malloc(sizeof(float) * m->arena_floats);
        if (!m->arena) return uzw_errf(err, es, "out of memory widening %zu weights to f32", m->arena_floats);
    }
    if (m->qarena_bytes) {
        m->qarena = aligned_alloc(64, m->qarena_bytes);
        if (!m->qarena) return uzw_errf(err, es, "out of memory for %zu bytes of W8A8 panels", m->qarena_bytes);
    }
    size_t used = 0, qused = 0;
    m->conv1_w = bind(m, "enc.conv1.weight", &used); m->conv1_b = bind(m, "enc.conv1.bias", &used);
    m->conv2_w = bind(m, "enc.conv2.weight", &used); m->conv2_b = bind(m, "enc.conv2.bias", &used);
    m->enc_pos = bind(m, "enc.pos", &used);
    m->ln_post_w = bind(m, "enc.ln_post.weight", &used); m->ln_post_b = bind(m, "enc.ln_post.bias", &used);
    m->tok_emb = bind_mat(m, "dec.tok_emb", &used, &qused); m->dec_pos = bind(m, "dec.pos", &used);
    m->dec_ln_w = bind(m, "dec.ln.weight", &used); m->dec_ln_b = bind(m, "dec.ln.bias", &used);
    m->enc = calloc((size_t)m->dims.n_audio_layer, sizeof(uzw_layer));
    m->dec = calloc((size_t)m->dims.n_text_layer, sizeof(uzw_layer));
    if (!m->enc || !m->dec) return uzw_errf(err, es, "out of memory");
    char pre[32];
    for (int i = 0; i < m->dims.n_audio_layer; i++) { snprintf(pre, sizeof pre, "enc.%d", i); bind_layer(m, &m->enc[i], pre, 0, &used, &qused); }
    for (int i = 0; i < m->dims.n_text_layer; i++) { snprintf(pre, sizeof pre, "dec.%d", i); bind_layer(m, &m->dec[i], pre, 1, &used, &qused); }
    return 0;
}

/* ---------------------------------------------------------------- entry points */

static uzw_status finish_load(uzw_model *m, uzw_model **out, char *err, size_t es) {
    const char *arch;
    uint32_t alen;
    if (uzw_meta_get_str(&m->wf, UZW_K_ARCH, &arch, &alen, err, es) != 0) goto bad;
    if (alen != 7 || memcmp(arch, "whisper", 7) != 0) { uzw_errf(err, es, "model architecture is '%.*s', expected 'whisper'", (int)(alen < 32 ? alen : 32), arch); goto bad; }
    for (int i = 0; i < 10; i++)
        if (meta_i32(m, uzw_dims_keys[i], uzw_dims_field(&m->dims, i), err, es) != 0) goto bad;
    if (uzw_dims_validate(&m->dims, err, es) != 0) goto bad;
    if (m->dims.n_audio_ctx * 2 != UZW_CHUNK_FRAMES) {
        uzw_errf(err, es, "dims.n_audio_ctx = %d: this engine decodes 30 s windows, which needs 1500", m->dims.n_audio_ctx);
        goto bad;
    }
    if (load_specials(m, err, es) != 0 || load_vocab(m, err, es) != 0 || load_tables(m, err, es) != 0) goto bad;
    m->isa = uzw_cpu_isa_detect();
    if (load_scheme(m, err, es) != 0 || check_tensors(m, err, es) != 0 || bind_all(m, err, es) != 0) goto bad;
    if (m->params.verify_checksum && uzw_wfile_verify_data(&m->wf, err, es) != 0) goto bad;
    uzw_logf(m->params.log, m->params.log_user, UZW_LOG_INFO,
             "model: %s (%s), %d+%d layers, d=%d, vocab %d, %d languages; %.1f MiB widened to f32%s%s", m->type,
             m->dtype, m->dims.n_audio_layer, m->dims.n_text_layer, m->dims.n_text_state, m->dims.n_vocab,
             m->sp.n_languages, m->arena_floats * 4.0 / (1 << 20),
             m->quant == UZW_QUANT_W8A8 ? "; int8 W8A8, CPU path " : m->quant == UZW_QUANT_W8A16 ? "; int8 W8A16, CPU path " : "",
             m->quant ? uzw_cpu_isa_name(m->isa) : "");
    *out = m;
    return UZW_OK;
bad:
    uzw_model_free(m);
    return UZW_ERR_MODEL_FORMAT;
}

static uzw_status open_status(const char *msg) {
    /* the container reader's messages distinguish I/O and version problems */
    if (strstr(msg, "version")) return UZW_ERR_MODEL_VERSION;
    if (strstr(msg, "cannot open") || strstr(msg, "cannot mmap") || strstr(msg, "cannot stat") || strstr(msg, "cannot read"))
        return UZW_ERR_IO;
    return UZW_ERR_MODEL_FORMAT;
}

uzw_status uzw_model_load(const char *path, const uzw_model_params *params, uzw_model **out, char *err, size_t es) {
    if (err && es) err[0] = 0;
    if (!path || !out) { uzw_errf(err, es, "uzw_model_load: NULL argument"); return UZW_ERR_INVALID_ARG; }
    *out = NULL;
    uzw_model *m = calloc(1, sizeof *m);
    if (!m) { uzw_errf(err, es, "out of memory"); return UZW_ERR_NO_MEMORY; }
    m->params = params ? *params : uzw_model_default_params();
    char msg[512] = "";
    if (uzw_wfile_open(path, &m->wf, msg, sizeof msg) != 0) {
        uzw_errf(err, es, "%s", msg); /* the container reader names the file */
        free(m);
        return open_status(msg);
    }
    uzw_status st = finish_load(m, out, msg, sizeof msg);
    if (st != UZW_OK) uzw_errf(err, es, "%s: %s", path, msg);
    return st;
}

uzw_status uzw_model_load_from_memory(const void *data, size_t size, const uzw_model_params *params, uzw_model **out,
                                      char *err, size_t es) {
    if (err && es) err[0] = 0;
    if (!data || !out) { uzw_errf(err, es, "uzw_model_load_from_memory: NULL argument"); return UZW_ERR_INVALID_ARG; }
    *out = NULL;
    uzw_model *m = calloc(1, sizeof *m);
    if (!m) { uzw_errf(err, es, "out of memory"); return UZW_ERR_NO_MEMORY; }
    m->params = params ? *params : uzw_model_default_params();
    char msg[512] = "";
    if (uzw_wfile_from_memory(data, size, &m->wf, msg, sizeof msg) != 0) {
        uzw_errf(err, es, "%s", msg);
        free(m);
        return open_status(msg);
    }
    uzw_status st = finish_load(m, out, msg, sizeof msg);
    if (st != UZW_OK) uzw_errf(err, es, "%s", msg);
    return st;
}

void uzw_model_free(uzw_model *m) {
    if (!m) return;
    uzw_tokenizer_free(m->tok);
    free(m->vocab); free(m->vocab_len);
    free(m->suppress); free(m->suppress_begin); free(m->align_heads);
    free(m->mel_filters); free(m->arena); free(m->qarena);
    free(m->enc); free(m->dec);
    for (int i = 0; i < m->n_merged; i++) free(m->merged[i]);
    uzw_wfile_close(&m->wf);
    free(m);
}
