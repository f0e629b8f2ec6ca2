/* bench_device.h - `uzwhisper bench --device cuda`: the CUDA backend at the real Whisper shapes
 * (tools/bench_device.c). */
#ifndef UZW_BENCH_DEVICE_H
#define UZW_BENCH_DEVICE_H

/* The whole subcommand; returns the process exit code. */
int bench_device_main(int argc, char **argv);

#endif
