#include "uzwhisper.h"

const char *uzw_status_string(uzw_status status) {
    switch (status) {
    case UZW_OK: return "ok";
    case UZW_ERR_INVALID_ARG: return "invalid argument";
    case UZW_ERR_IO: return "input/output error";
    case UZW_ERR_MODEL_FORMAT: return "corrupt or invalid model file";
    case UZW_ERR_MODEL_VERSION: return "unsupported model file version";
    case UZW_ERR_AUDIO: return "unreadable or unsupported audio";
    case UZW_ERR_NO_MEMORY: return "out of memory";
    case UZW_ERR_UNSUPPORTED: return "not supported";
    case UZW_ERR_LANGUAGE: return "unknown or unsupported language";
    case UZW_ERR_INTERNAL: return "internal error";
    case UZW_ERR_DEVICE: return "GPU device error";
    case UZW_ERR_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

const char *uzw_version(void) { return UZW_VERSION_STRING; }

const char *uzw_backends(void) {
#ifdef UZW_HAVE_CUDA
    return "cpu cuda";
#else
    return "cpu";
#endif
}
