/* adapter_use.c - a request's unmerged adapters (uzw_params.adapters) checked and handed to the
 * context's forward state for the duration of one transcription. */
#include <string.h>

#include "adapter/adapter.h"
#include "decode/context.h"

#define UZW_MAX_ACTIVE_ADAPTERS ((int)(sizeof ((uzw_fwd_state *)0)->adapters / sizeof(void *)))

uzw_status uzw_ctx_use_adapters(uzw_context *ctx, const uzw_params *p) {
    ctx->st.n_adapters = 0;
    if (p->n_adapters == 0) return UZW_OK;
    if (p->n_adapters < 0 || p->n_adapters > UZW_MAX_ACTIVE_ADAPTERS || !p->adapters)
        return uzw_ctx_fail(ctx, UZW_ERR_INVALID_ARG, "n_adapters must be 0..%d with an adapters array", UZW_MAX_ACTIVE_ADAPTERS);
    for (int i = 0; i < p->n_adapters; i++) {
        const uzw_adapter *a = p->adapters[i];
        if (!a) return uzw_ctx_fail(ctx, UZW_ERR_INVALID_ARG, "adapters[%d] is NULL", i);
        if (memcmp(&a->dims, &ctx->m->dims, sizeof a->dims) != 0)
            return uzw_ctx_fail(ctx, UZW_ERR_INVALID_ARG, "adapter %s was loaded against a model of other dimensions", a->name);
        if (a->unmerged_blocker[0])
            return uzw_ctx_fail(ctx, UZW_ERR_UNSUPPORTED, "adapter %s replaces '%s' (modules_to_save or bias \"all\"), which only "
                                "merging can do: load it merged (transcribe --adapter DIR, or convert --adapter)", a->name,
                                a->unmerged_blocker);
        if (a->max_rank > ctx->m->dims.n_audio_ctx)
            return uzw_ctx_fail(ctx, UZW_ERR_UNSUPPORTED, "adapter %s has rank %d; unmerged adapters run up to rank %d", a->name,
                                a->max_rank, ctx->m->dims.n_audio_ctx);
    }
    if (ctx->st.gpu)
        return uzw_ctx_fail(ctx, UZW_ERR_UNSUPPORTED, "unmerged adapters run on the CPU backend only; merge LoRA adapters "
                            "into the model (transcribe --adapter DIR) to use them on %s", ctx->device);
    for (int i = 0; i < p->n_adapters; i++) ctx->st.adapters[i] = p->adapters[i];
    ctx->st.n_adapters = p->n_adapters;
    return UZW_OK;
}
