/* The small program forkexec runs: exits at once. */
int main(void)
{
    return 0;
}
