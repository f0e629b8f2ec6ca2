/* batch_pool.h - the shared state of one batch run (internal to batch_pool.c and batch_run.c). */
#ifndef UZW_BATCH_POOL_H
#define UZW_BATCH_POOL_H

#include <pthread.h>
#include <stdatomic.h>

#include "batch.h"

typedef struct {
    const batch_config *cfg;
    const uzw_model *model;
    batch_list *items;
    uzw_params params;      /* cfg->params with the worker thread count                   */
    unsigned *todo;         /* per item: formats still to write (stdout mode: 1); 0 = skip */
    pthread_mutex_t mu;     /* guards everything below except the atomics                 */
    size_t next;            /* next item to hand out                                     */
    size_t taken;           /* items handed out                                          */
    atomic_int stop;        /* 1: hand out no more items                                 */
    atomic_int workers_left;
    batch_progress prog;
    batch_failures fails;
    batch_summary *sum;
    int stop_reason_noted;
    /* stdout mode: results printed in input order whatever the finishing order */
    char **out_text;        /* per item: what to print (NULL: nothing)                   */
    unsigned char *finished;
    size_t next_print;
} batch_pool;

/* A worker thread: takes items until none are left or stop is set. */
void *batch_worker(void *pool);
/* Print the finished stdout results in input order up to the first unfinished one (all = 1: every
 * finished one). Call with mu held. */
void batch_flush_stdout(batch_pool *P, int all);

#endif
