/* fuzz_server: the whole engine in the server role, fed a client's bytes
 * (by default after a valid upgrade request the harness prepends when the
 * input asks for it). See fuzz_engine.h for the input layout and the
 * invariants checked. */
#define FUZZ_SERVER 1
#include "fuzz_engine.h"
