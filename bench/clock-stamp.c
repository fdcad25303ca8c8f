/*
 * The dispatch-latency job: prints CLOCK_MONOTONIC in nanoseconds and exits. Built static by
 * bench/job-clock.ts so that what runs between exec and the clock read is only the kernel's
 * exec and a few instructions (no dynamic loader, no libc start-up beyond the minimum).
 */
#include <time.h>
#include <unistd.h>

int main(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  unsigned long long ns = (unsigned long long)now.tv_sec * 1000000000ull + (unsigned long long)now.tv_nsec;
  char reversed[24];
  char line[25];
  int digits = 0;
  do {
    reversed[digits++] = (char)('0' + ns % 10);
    ns /= 10;
  } while (ns != 0);
  int length = 0;
  while (digits > 0) line[length++] = reversed[--digits];
  line[length++] = '\n';
  return write(1, line, (size_t)length) == length ? 0 : 1;
}
