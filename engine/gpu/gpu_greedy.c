/* gpu_greedy.c - greedy decoding of B sequences entirely on the device: the prompt once, then per
 * step token selection (rules, log-softmax, argmax), the bookkeeping (history, positions, done
 * flags) and the decoder step, captured once per batch size as a CUDA graph and replayed. Only
 * the done flags come back every few steps, and the tokens at the end. */
#ifdef UZW_HAVE_CUDA

#include <stdlib.h>
#include <string.h>

#include "gpu/gpu.h"
#include "k_step.h"

#define TRY(x)                                                                                                   \
    do {                                                                                                         \
        if ((x) != 0) goto fail;                                                                                 \
    } while (0)

/* Device bookkeeping of a greedy run: one allocation. */
typedef struct {
    void *block;
    int32_t *hist;      /* [B, max_new] chosen tokens   */
    int32_t *n_hist;    /* [B]                          */
    int32_t *token;     /* [B] next input token         */
    int32_t *pos;       /* [B] its position             */
    int32_t *slot;      /* [B] physical cache slot      */
    int32_t *done;      /* [B]                          */
    int32_t *top_id;    /* [B]                          */
    float *top_lp;      /* [B]                          */
    float *sum_lp;      /* [B]                          */
} greedy_buf;

static int buf_new(uzwk_ctx *c, greedy_buf *g, int B, int max_new) {
    size_t n32 = (size_t)B * max_new + 8 * (size_t)B;
    g->block = uzwk_malloc(c, n32 * 4);
    if (!g->block) return -1;
    int32_t *p = g->block;
    g->hist = p; p += (size_t)B * max_new;
    g->n_hist = p; p += B;
    g->token = p; p += B;
    g->pos = p; p += B;
    g->slot = p; p += B;
    g->done = p; p += B;
    g->top_id = p; p += B;
    g->top_lp = (float *)p; p += B;
    g->sum_lp = (float *)p;
    return 0;
}

/* One step: choose, commit, run the decoder on the chosen tokens. */
static int one_step(uzw_gpu_state *s, greedy_buf *g, const uzwk_select_rules *rules, int B, int max_new, int eot) {
    uzwk_ctx *c = s->c;
    int V = s->g->dims.n_vocab;
    if (uzwk_select(c, s->logits, V, B, rules, 1, g->hist, max_new, g->n_hist, 1, g->top_id, g->top_lp, 0)) return -1;
    if (uzwk_greedy_commit(c, g->top_id, g->top_lp, g->hist, max_new, g->n_hist, g->token, g->pos, g->sum_lp, g->done,
                           eot, max_new, B))
        return -1;
    return uzw_gpu_decoder_step_dev(s, g->token, g->pos, g->slot, B);
}

int uzw_gpu_greedy(uzw_gpu_state *s, const int32_t *prompt, int n_prompt, int B, int max_new,
                   const uzwk_select_rules *rules, const uzw_gpu_greedy_opts *o, int32_t *tokens_out, int *n_out,
                   float *sum_logprob) {
    uzwk_ctx *c = s->c;
    const uzw_dims *d = &s->g->dims;
    int V = d->n_vocab;
    greedy_buf g = {0};
    int32_t *h_n = NULL, *h_done = NULL;
    if (B < 1 || B > s->n_seq_max || B > 64 || max_new < 1 || n_prompt < 1 || n_prompt + max_new > d->n_text_ctx)
        return uzwk_fail(c, "gpu greedy: %d sequences of %d + %d tokens do not fit (%d slots, context %d)", B, n_prompt,
                         max_new, s->n_seq_max, d->n_text_ctx);
    /* With fixed_tokens a sequence that chooses EOT is done, but every step still runs the whole
     * batch, so the work per step (what a benchmark times) does not change; the token fed to a
     * finished sequence stays EOT, a valid id. */
    int eot = rules->eot;
    h_n = malloc(sizeof(int32_t) * (size_t)B);
    h_done = malloc(sizeof(int32_t) * (size_t)B);
    if (!h_n || !h_done) {
        uzwk_fail(c, "gpu greedy: out of host memory");
        goto fail;
    }
    TRY(buf_new(c, &g, B, max_new));
    /* the prompt into slot 0, its last logits copied to every sequence, slot 0 forked */
    TRY(uzw_gpu_decoder_prompt(s, prompt, n_prompt, 0, 0, NULL));
    TRY(uzw_gpu_logits_rows(s, n_prompt - 1, 1));
    for (int b = 1; b < B; b++) {
        TRY(uzwk_d2d(c, s->logits + (size_t)b * V, s->logits, sizeof(float) * (size_t)V));
        TRY(uzw_gpu_copy_slot(s, 0, b, n_prompt));
    }
    TRY(uzwk_memset(c, g.n_hist, 0, sizeof(int32_t) * (size_t)B));
    TRY(uzwk_memset(c, g.done, 0, sizeof(int32_t) * (size_t)B));
    TRY(uzwk_memset(c, g.sum_lp, 0, sizeof(float) * (size_t)B));
    TRY(uzwk_i32_iota(c, g.pos, n_prompt - 1, 0, B)); /* the commit moves each to n_prompt */
    TRY(uzwk_i32_iota(c, g.slot, 0, 1, B));
    int steps = o->fixed_tokens > 0 ? (o->fixed_tokens < max_new ? o->fixed_tokens : max_new) : max_new;
    uzwk_graph *graph = NULL;
    if (o->use_graph) {
        /* the step graph reads everything from g's device arrays: capture it for this run */
        TRY(uzwk_graph_begin(c));
        int rc = one_step(s, &g, rules, B, max_new, eot);
        graph = uzwk_graph_end(c);
        if (rc != 0 || !graph) {
            uzwk_graph_free(graph);
            goto fail;
        }
    }
    for (int t = 0; t < steps; t++) {
        int rc = graph ? uzwk_graph_launch(c, graph) : one_step(s, &g, rules, B, max_new, eot);
        if (rc != 0) {
            uzwk_graph_free(graph);
            goto fail;
        }
        if (o->fixed_tokens <= 0 && (t % 8 == 7)) { /* every 8 steps: stop once all are done */
            if (uzwk_d2h(c, h_done, g.done, sizeof(int32_t) * (size_t)B)) {
                uzwk_graph_free(graph);
                goto fail;
            }
            int all = 1;
            for (int b = 0; b < B; b++) all &= h_done[b] != 0;
            if (all) break;
        }
    }
    uzwk_graph_free(graph);
    /* the step after the last commit chose nothing yet: the history holds every committed token */
    TRY(uzwk_d2h(c, h_n, g.n_hist, sizeof(int32_t) * (size_t)B));
    TRY(uzwk_d2h(c, tokens_out, g.hist, sizeof(int32_t) * (size_t)B * max_new));
    TRY(uzwk_d2h(c, sum_logprob, g.sum_lp, sizeof(float) * (size_t)B));
    for (int b = 0; b < B; b++) n_out[b] = h_n[b];
    uzwk_free(g.block);
    free(h_n);
    free(h_done);
    return 0;
fail:
    uzwk_free(g.block);
    free(h_n);
    free(h_done);
    return -1;
}

#endif /* UZW_HAVE_CUDA */
