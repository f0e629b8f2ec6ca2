// select.cu - token selection on the device (k_select.h): OAI's logit rules applied in place
// (SuppressBlank, SuppressTokens, ApplyTimestampRules), log-softmax over the filtered logits, and
// the k best tokens of each sequence; plus the greedy step's bookkeeping (uzwk_greedy_commit).
//
// CPU reference: uzw_apply_filters + uzw_logsumexp (engine/decode/logit_filters.c).
//
// uzwk_select: one block per sequence (NT = 1024 or 512 threads). Thread t owns the vocabulary
// entries j = t, t + NT, t + 2 NT, ... of its row; every read or write of an entry after the
// suppress-list scatter is done by its owner, so the only cross-thread traffic on the row is the
// scatter, which a __syncthreads orders before the first read.
//   1. Rule state (warp 0): last / penultimate sampled token, the last timestamp in the history
//      (a ballot scan from the end, 32 positions at a time), turned into at most four id ranges
//      that are -inf'd (pairing, monotonic, first-token rules). Meanwhile all threads scatter -inf
//      over the suppress lists and no_timestamps.
//   2. One pass over the row: apply the ranges (writing -inf in place), and per thread an online
//      softmax: running max m, sum exp(x - m) over all and over timestamps, max text logit, the
//      thread's best entry overall and its best timestamp entry (ties to the lower id).
//   3. Block combine (warp shuffles, then every thread folds the per-warp partials in the same
//      order, so all threads hold identical totals): M, sum_all, sum_ts, max_text.
//   4. The timestamp-mass rule "log sum_ts > max_text - M" (fp32; see below); if it fires, the
//      owners -inf their text entries and the normaliser becomes sum_ts.
//   5. k rounds of block argmax: each thread keeps the best of its entries not yet chosen; after
//      a round only the winner's owner rescans its entries for the next one after the winner in
//      the order (value desc, id asc), so the exclusion is a single comparison.
//      log-softmax = (x - M) - log(S) with S the surviving sum relative to M.
//
// Precision: the CPU decides the timestamp-mass rule in double (log(sum_ts) vs max_text - mx);
// here it is fp32 with max subtraction (sum_ts has relative error ~1e-6), so a row whose
// margin log(sum_ts) - (max_text - mx) is within ~1e-5 of zero may be decided differently.
// Log-probabilities carry an absolute error of a few 1e-6 (fp32 sum of up to 51866 exponentials).
// NaN logits are skipped (never chosen, not summed); the CPU would propagate them into the sum.
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#include "k_select.h"

#define SEL_TRY(c, call)                                                                                    \
    do {                                                                                                    \
        cudaError_t e_ = (call);                                                                            \
        if (e_ != cudaSuccess)                                                                              \
            return uzwk_fail((c), "%s: %s (%s:%d)", #call, cudaGetErrorString(e_), __FILE__, __LINE__);     \
    } while (0)

#define SEL_MAX_K 64
#define SEL_UNROLL 4 /* row entries loaded per thread before use */

/* The rules as plain values, passed by value to the kernel. */
typedef struct {
    int V, eot, no_timestamps, timestamp_begin;
    const int32_t *suppress; int n_suppress;             /* dev */
    const int32_t *suppress_begin; int n_suppress_begin; /* dev */
    int suppress_blank, timestamps, max_initial_timestamp_index;
    int apply;                                           /* apply_rules */
} sel_params;

/* exp(m - M) for a partial whose max is m, guarded so that an empty partial (m = -inf) gives 0. */
__device__ __forceinline__ float sel_scale(float m, float M) { return m == -INFINITY ? 0.0f : expf(m - M); }

/* (va, ia) comes before (vb, ib) in the selection order: a real entry (id >= 0) before none, then
 * the larger value, then the lower id. */
__device__ __forceinline__ bool sel_before(float va, int ia, float vb, int ib) {
    if (ia < 0) return false;
    if (ib < 0) return true;
    return va > vb || (va == vb && ia < ib);
}

/* The best entry owned by thread t strictly after (pv, pid) in the selection order, among ids >= lo;
 * (-inf, -1) if none. Entries -inf or NaN are never candidates. */
template <int NT>
__device__ void sel_rescan(const float *row /* [V] */, int V, int t, int lo, float pv, int pid, float *bv, int *bi) {
    float best = -INFINITY;
    int id = -1;
    for (int j = t; j < V; j += NT) {
        if (j < lo) continue;
        float v = row[j];
        if (!(v > -INFINITY)) continue;
        bool after = v < pv || (v == pv && j > pid);
        if (after && v > best) { best = v; id = j; }
    }
    *bv = best;
    *bi = id;
}

/* One thread's running totals over its entries (in increasing id order): max m and its id bi
 * (the first, i.e. lowest, id on ties), sum exp(x - m) over all (sa) and over timestamps (st),
 * max text logit mt, best timestamp tv at ti. */
typedef struct {
    float m, sa, st, mt, tv;
    int bi, ti;
} sel_acc;

__device__ __forceinline__ void sel_acc_add(sel_acc &a, float v, int j, int ts_lo) {
    if (!(v > -INFINITY)) return; /* -inf or NaN: not a candidate */
    bool is_ts = j >= ts_lo;
    if (v > a.m) {
        float sc = sel_scale(a.m, v);
        a.sa = a.sa * sc + 1.0f;
        a.st = a.st * sc + (is_ts ? 1.0f : 0.0f);
        a.m = v;
        a.bi = j;
    } else {
        float e = expf(v - a.m);
        a.sa += e;
        if (is_ts) a.st += e;
    }
    if (is_ts) {
        if (v > a.tv) { a.tv = v; a.ti = j; }
    } else if (v > a.mt) {
        a.mt = v;
    }
}

template <int NT>
__global__ void __launch_bounds__(NT) select_kernel(float *logits /* [B, ldl] */, int ldl, sel_params p,
                                                    const int32_t *hist /* [B, ldh] */, int ldh,
                                                    const int32_t *n_hist /* [B] */, int k,
                                                    int32_t *top_id /* [B, k] */, float *top_lp /* [B, k] */) {
    constexpr int NW = NT / 32;
    __shared__ int s_lo[4], s_hi[4];                  /* id ranges to -inf (empty: lo = hi) */
    __shared__ float s_m[NW], s_sa[NW], s_st[NW], s_mt[NW];
    __shared__ float s_rv[2][NW];                     /* per-warp round winners, double-buffered */
    __shared__ int s_ri[2][NW];

    const int b = blockIdx.x, tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int V = p.V, TB = p.timestamp_begin;
    float *row = logits + (size_t)b * ldl;
    const bool ts_rules = p.apply && p.timestamps;
    const int ts_lo = ts_rules ? TB : V; /* first id counted as a timestamp (V: none) */

    /* ---- 1. rule state and the suppress lists */
    int n = 0;
    if (p.apply) {
        n = n_hist[b];
        n = n < 0 ? 0 : n;
        for (int i = tid; i < p.n_suppress; i += NT) {
            int id = p.suppress[i];
            if (id >= 0 && id < V) row[id] = -INFINITY;
        }
        if (n == 0 && p.suppress_blank)
            for (int i = tid; i < p.n_suppress_begin; i += NT) {
                int id = p.suppress_begin[i];
                if (id >= 0 && id < V) row[id] = -INFINITY;
            }
        if (ts_rules && tid == 0 && p.no_timestamps >= 0 && p.no_timestamps < V) row[p.no_timestamps] = -INFINITY;
    }
    if (warp == 0) {
        int lo[4] = {0, 0, 0, 0}, hi[4] = {0, 0, 0, 0};
        if (ts_rules) {
            const int32_t *h = hist + (size_t)b * ldh; /* [n] sampled tokens */
            const int nr = n < ldh ? n : ldh;           /* never read past the row */
            /* the last timestamp in h[0, n): scan from the end, 32 positions per step */
            int last = -1;
            for (int base = nr - 1; base >= 0; base -= 32) {
                int i = base - lane;
                int tok = i >= 0 ? h[i] : -1;
                unsigned hit = __ballot_sync(0xffffffffu, i >= 0 && tok >= TB);
                if (hit) {
                    int src = __ffs(hit) - 1; /* the lowest lane holds the highest position */
                    last = __shfl_sync(0xffffffffu, tok, src);
                    break;
                }
            }
            if (lane == 0) {
                bool last_ts = nr >= 1 && h[nr - 1] >= TB;
                bool penult_ts = nr < 2 || h[nr - 2] >= TB;
                if (last_ts) {
                    if (penult_ts) { lo[0] = TB; hi[0] = V; }   /* after a pair: text or EOT    */
                    else { lo[0] = 0; hi[0] = p.eot; }          /* after text+ts: ts or EOT     */
                }
                if (last >= 0) {                                /* timestamps never decrease    */
                    int upto = (last_ts && !penult_ts) ? last : last + 1;
                    lo[1] = TB; hi[1] = upto < V ? upto : V;
                }
                if (n == 0) {                                   /* the first token is a ts      */
                    lo[2] = 0; hi[2] = TB;
                    if (p.max_initial_timestamp_index >= 0) {
                        long long first_bad = (long long)TB + p.max_initial_timestamp_index + 1;
                        lo[3] = first_bad < V ? (int)first_bad : V; hi[3] = V;
                    }
                }
            }
        }
        if (lane == 0)
            for (int r = 0; r < 4; r++) {
                s_lo[r] = lo[r];
                s_hi[r] = hi[r] > lo[r] ? hi[r] : lo[r];
            }
    }
    __syncthreads(); /* the scatter and the ranges are visible to every thread */

    /* ---- 2. one pass: ranges applied in place, online softmax partials, per-thread best */
    int lo0 = s_lo[0], hi0 = s_hi[0], lo1 = s_lo[1], hi1 = s_hi[1];
    int lo2 = s_lo[2], hi2 = s_hi[2], lo3 = s_lo[3], hi3 = s_hi[3];
    sel_acc a;
    a.m = -INFINITY; a.sa = 0.0f; a.st = 0.0f; a.mt = -INFINITY; a.tv = -INFINITY; a.bi = -1; a.ti = -1;
    for (int j0 = tid; j0 < V; j0 += SEL_UNROLL * NT) {
        float v[SEL_UNROLL]; /* SEL_UNROLL loads in flight before the first use */
#pragma unroll
        for (int u = 0; u < SEL_UNROLL; u++) {
            int j = j0 + u * NT;
            v[u] = j < V ? row[j] : -INFINITY;
        }
#pragma unroll
        for (int u = 0; u < SEL_UNROLL; u++) {
            int j = j0 + u * NT;
            if (j >= V) break;
            if (p.apply && ((j >= lo0 && j < hi0) || (j >= lo1 && j < hi1) || (j >= lo2 && j < hi2) ||
                            (j >= lo3 && j < hi3))) {
                if (v[u] != -INFINITY) row[j] = -INFINITY;
            } else {
                sel_acc_add(a, v[u], j, ts_lo);
            }
        }
    }
    float m = a.m, sa = a.sa, st = a.st, mt = a.mt, tv = a.tv;
    int bi = a.bi, ti = a.ti;

    /* ---- 3. block totals (identical in every thread) */
    {
        float wm = m, wsa = sa, wst = st, wmt = mt;
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) {
            float om = __shfl_xor_sync(0xffffffffu, wm, off);
            float osa = __shfl_xor_sync(0xffffffffu, wsa, off);
            float ost = __shfl_xor_sync(0xffffffffu, wst, off);
            float omt = __shfl_xor_sync(0xffffffffu, wmt, off);
            float mm = fmaxf(wm, om);
            float a = sel_scale(wm, mm), c = sel_scale(om, mm);
            wsa = wsa * a + osa * c;
            wst = wst * a + ost * c;
            wm = mm;
            wmt = fmaxf(wmt, omt);
        }
        if (lane == 0) { s_m[warp] = wm; s_sa[warp] = wsa; s_st[warp] = wst; s_mt[warp] = wmt; }
    }
    __syncthreads();
    float M = -INFINITY, MT = -INFINITY;
    for (int w = 0; w < NW; w++) { M = fmaxf(M, s_m[w]); MT = fmaxf(MT, s_mt[w]); }
    float SA = 0.0f, ST = 0.0f;
    for (int w = 0; w < NW; w++) {
        float sc = sel_scale(s_m[w], M);
        SA += s_sa[w] * sc;
        ST += s_st[w] * sc;
    }

    /* ---- 4. if the timestamps together beat every text token, take a timestamp */
    bool text_off = false;
    if (ts_rules && M > -INFINITY && ST > 0.0f && (MT == -INFINITY || logf(ST) > MT - M)) text_off = true;
    float S = text_off ? ST : SA;
    float logS = M > -INFINITY ? logf(S) : 0.0f;
    float bv = m;
    if (text_off) {
        int te = TB < V ? TB : V;
        for (int j = tid; j < te; j += NT) row[j] = -INFINITY;
        bv = tv;
        bi = ti;
    }
    if (bi < 0) bv = -INFINITY;
    const int lo_id = text_off ? TB : 0;

    /* ---- 5. k rounds of block argmax with exclusion by order */
    int32_t *out_id = top_id + (size_t)b * k;
    float *out_lp = top_lp + (size_t)b * k;
    for (int r = 0; r < k; r++) {
        float wv = bv;
        int wi = bi;
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, wv, off);
            int oi = __shfl_xor_sync(0xffffffffu, wi, off);
            if (sel_before(ov, oi, wv, wi)) { wv = ov; wi = oi; }
        }
        const int buf = r & 1;
        if (lane == 0) { s_rv[buf][warp] = wv; s_ri[buf][warp] = wi; }
        __syncthreads();
        float gv = -INFINITY;
        int gi = -1;
        for (int w = 0; w < NW; w++)
            if (sel_before(s_rv[buf][w], s_ri[buf][w], gv, gi)) { gv = s_rv[buf][w]; gi = s_ri[buf][w]; }
        if (gi < 0) { /* nothing left: the rest are none (uniform across the block) */
            for (int q = r + tid; q < k; q += NT) { out_id[q] = -1; out_lp[q] = -INFINITY; }
            break;
        }
        if (tid == 0) {
            out_id[r] = gi;
            out_lp[r] = (gv - M) - logS;
        }
        if (r + 1 < k && gi % NT == tid) sel_rescan<NT>(row, V, tid, lo_id, gv, gi, &bv, &bi);
    }
}

/* One thread per sequence: the greedy step's bookkeeping (k_select.h). */
__global__ void greedy_commit_kernel(const int32_t *top_id /* [B] */, const float *top_lp /* [B] */,
                                     int32_t *hist /* [B, ldh] */, int ldh, int32_t *n_hist /* [B] */,
                                     int32_t *next_token /* [B] */, int32_t *next_pos /* [B] */,
                                     float *sum_lp /* [B] */, int32_t *done /* [B] */, int eot, int max_len, int B) {
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b >= B) return;
    if (done[b]) { next_token[b] = eot; return; }
    int id = top_id[b], n = n_hist[b];
    next_pos[b] += 1;
    if (id == eot) {
        sum_lp[b] += top_lp[b];
        done[b] = 1;
        next_token[b] = eot;
    } else if (id < 0 || n < 0 || n >= max_len) {
        done[b] = 1;
        next_token[b] = eot;
    } else {
        hist[(size_t)b * ldh + n] = id;
        n_hist[b] = n + 1;
        sum_lp[b] += top_lp[b];
        next_token[b] = id;
    }
}

template <int NT>
static int launch_select(uzwk_ctx *c, float *logits, int ldl, int B, const sel_params &p, const int32_t *hist,
                         int ldh, const int32_t *n_hist, int k, int32_t *top_id, float *top_lp) {
    cudaStream_t s = (cudaStream_t)uzwk_ctx_stream(c);
    select_kernel<NT><<<B, NT, 0, s>>>(logits, ldl, p, hist, ldh, n_hist, k, top_id, top_lp);
    SEL_TRY(c, cudaGetLastError());
    return 0;
}

extern "C" int uzwk_select(uzwk_ctx *c, float *logits, int ldl, int B, const uzwk_select_rules *rules, int apply_rules,
                           const int32_t *hist, int ldh, const int32_t *n_hist, int k, int32_t *top_id,
                           float *top_logprob, int variant) {
    if (!rules) return uzwk_fail(c, "uzwk_select: rules is NULL (it carries V)");
    const int V = rules->V;
    if (B < 0 || V < 1 || ldl < V) return uzwk_fail(c, "uzwk_select: bad sizes B=%d V=%d ldl=%d", B, V, ldl);
    if (k < 1 || k > SEL_MAX_K) return uzwk_fail(c, "uzwk_select: k=%d outside [1, %d]", k, SEL_MAX_K);
    if (variant < 0 || variant > 1) return uzwk_fail(c, "uzwk_select: no variant %d", variant);
    if (B == 0) return 0;
    if (!logits || !top_id || !top_logprob) return uzwk_fail(c, "uzwk_select: NULL logits or outputs");
    if (apply_rules) {
        if (!n_hist || (rules->timestamps && (!hist || ldh < 1)))
            return uzwk_fail(c, "uzwk_select: the rules need hist (ldh=%d) and n_hist", ldh);
        if ((rules->n_suppress > 0 && !rules->suppress) || (rules->n_suppress_begin > 0 && !rules->suppress_begin))
            return uzwk_fail(c, "uzwk_select: suppress list count without a list");
        if (rules->timestamps &&
            (rules->timestamp_begin < 0 || rules->timestamp_begin > V || rules->eot < 0 || rules->eot > rules->timestamp_begin))
            return uzwk_fail(c, "uzwk_select: bad special ids eot=%d timestamp_begin=%d V=%d", rules->eot,
                             rules->timestamp_begin, V);
    }
    sel_params p;
    p.V = V;
    p.eot = rules->eot;
    p.no_timestamps = rules->no_timestamps;
    p.timestamp_begin = rules->timestamp_begin;
    p.suppress = rules->suppress;
    p.n_suppress = rules->n_suppress > 0 ? rules->n_suppress : 0;
    p.suppress_begin = rules->suppress_begin;
    p.n_suppress_begin = rules->n_suppress_begin > 0 ? rules->n_suppress_begin : 0;
    p.suppress_blank = rules->suppress_blank;
    p.timestamps = rules->timestamps;
    p.max_initial_timestamp_index = rules->max_initial_timestamp_index;
    p.apply = apply_rules ? 1 : 0;
    return variant == 0 ? launch_select<1024>(c, logits, ldl, B, p, hist, ldh, n_hist, k, top_id, top_logprob)
                        : launch_select<512>(c, logits, ldl, B, p, hist, ldh, n_hist, k, top_id, top_logprob);
}

extern "C" int uzwk_greedy_commit(uzwk_ctx *c, const int32_t *top_id, const float *top_logprob, int32_t *hist, int ldh,
                                  int32_t *n_hist, int32_t *next_token, int32_t *next_pos, float *sum_logprob,
                                  int32_t *done, int eot, int max_len, int B) {
    if (B < 0 || ldh < 1 || max_len < 0 || max_len > ldh)
        return uzwk_fail(c, "uzwk_greedy_commit: bad sizes B=%d ldh=%d max_len=%d", B, ldh, max_len);
    if (B == 0) return 0;
    const int NT = 256;
    cudaStream_t s = (cudaStream_t)uzwk_ctx_stream(c);
    greedy_commit_kernel<<<(B + NT - 1) / NT, NT, 0, s>>>(top_id, top_logprob, hist, ldh, n_hist, next_token,
                                                           next_pos, sum_logprob, done, eot, max_len, B);
    SEL_TRY(c, cudaGetLastError());
    return 0;
}
