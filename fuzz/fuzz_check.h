/* CHECK(c): the harnesses' assertion, kept under NDEBUG too (a failed
   check is a finding: libFuzzer saves the input that aborted). */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(c)                                                      \
    do {                                                              \
        if (!(c)) {                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,    \
                    __LINE__, #c);                                    \
            abort();                                                  \
        }                                                             \
    } while (0)

#endif
