/* Console output with log levels. */
#ifndef ENSO_PRINTK_H
#define ENSO_PRINTK_H

#include <enso/types.h>

/*
 * A message may start with a level marker; it is printed only when its level is at or
 * below the threshold set by `loglvl=` (default LOG_LEVEL_INFO). Unmarked messages are
 * LOG_INFO.
 */
#define LOG_ERR "<1>"
#define LOG_WARNING "<2>"
#define LOG_INFO "<3>"
#define LOG_DEBUG "<4>"
#define LOG_LEVEL_ERR 1
#define LOG_LEVEL_WARNING 2
#define LOG_LEVEL_INFO 3
#define LOG_LEVEL_DEBUG 4

void printk(const char *fmt, ...) __printf(1, 2);
void vprintk(const char *fmt, va_list ap);

#endif
