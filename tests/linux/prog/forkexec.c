/*
 * forkexec N PROG: fork and exec PROG (with no arguments) N times, one at a time, and
 * wait for each. Prints "forkexec: N ok" or the first failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    const char *prog = argc > 2 ? argv[2] : "/bin/true";

    for (int i = 0; i < n; i++) {
        int status;
        pid_t pid = fork();

        if (pid < 0) {
            printf("forkexec: fork %d failed\n", i);
            return 1;
        }
        if (pid == 0) {
            execl(prog, prog, (char *)NULL);
            _exit(127);
        }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
            printf("forkexec: run %d of %s: status %#x\n", i, prog, status);
            return 1;
        }
    }
    printf("forkexec: %d ok\n", n);
    return 0;
}
