/* fuzz_client: the whole engine in the client role, fed a server's bytes
 * (typically after a valid 101 response for the client's key, which the
 * harness computes from its deterministic random source and prepends when
 * the input asks for it). See fuzz_engine.h for the input layout and the
 * invariants checked. */
#define FUZZ_SERVER 0
#include "fuzz_engine.h"
