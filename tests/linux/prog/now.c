/* now: the time of day as seconds.microseconds (busybox date has no sub-second format). */
#include <stdio.h>
#include <sys/time.h>

int main(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    printf("%ld.%06ld\n", (long)tv.tv_sec, (long)tv.tv_usec);
    return 0;
}
