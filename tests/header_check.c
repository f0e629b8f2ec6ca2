/* The public header must compile on its own as plain C99. */
#include "uzwhisper.h"
int uzw_header_check_dummy(void) { return UZW_OK; }
