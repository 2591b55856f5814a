/* Error codes: every WS_E_* code has its own text, unknown codes do not
 * crash, and the values are the documented ones. */
#define WS_IMPLEMENTATION
#include "../../ws.h"
#include "test.h"

int main(void) {
    int codes[] = {
#define CODE(name, value, text) name,
        WS_ERRORS(CODE)
#undef CODE
    };
    const char *texts[] = {
#define TEXT(name, value, text) text,
        WS_ERRORS(TEXT)
#undef TEXT
    };
    size_t n = sizeof codes / sizeof codes[0], i, j;
    for (i = 0; i < n; i++) {
        const char *s = ws_strerror(codes[i]);
        CHECKF(s && strcmp(s, texts[i]) == 0, "ws_strerror(%d)", codes[i]);
        CHECKF(codes[i] == -(int)i, "code %d is not -%u: the list should count down from 0",
               codes[i], (unsigned)i);
        for (j = 0; j < i; j++) CHECKF(strcmp(texts[i], texts[j]) != 0, "codes %d and %d share text", codes[i], codes[j]);
    }
    CHECK(WS_E_LAST_ < codes[n - 1]);
    CHECK(ws_strerror(1) && strcmp(ws_strerror(1), "unknown error") == 0);
    CHECK(ws_strerror(WS_E_LAST_) && strcmp(ws_strerror(WS_E_LAST_), "unknown error") == 0);
    CHECK(ws_strerror(-1000) != NULL);
    CHECK(WS_OK == 0 && WS_E_AGAIN == -1 && WS_E_INCOMPLETE == -2);
    return test_report();
}
