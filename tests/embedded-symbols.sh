#!/usr/bin/env bash
# tests/embedded-symbols.sh - what ws.h needs from the outside world when
# built for firmware (WS_NO_SOCKETS), checked on the objects themselves.
#
#   tests/embedded-symbols.sh [HOST_CC] [OUTDIR]
#
# ws.h's implementation alone (examples/embedded/ws_impl.c) is compiled
# -ffreestanding with the host compiler and with arm-none-eabi-gcc for
# Cortex-M0+ and Cortex-M4, in each build profile, and then:
#   - nm -u: the object may refer to memcpy, memmove, memset, memcmp and
#     strlen and to nothing else but compiler support routines (libgcc's
#     division, 64-bit shift and switch-table helpers, listed so a reader
#     sees what each target needs); with WS_MEMCPY & co. overridden
#     (ws_impl_own_libc.c) not even those five may remain;
#   - the headers it includes: <stddef.h>, <stdint.h> and <string.h> only
#     (not even <string.h> when the five are overridden), besides the
#     compiler's SIMD intrinsics on x86/AArch64 - no stdio, no stdlib,
#     nothing of the OS;
#   - WS_NO_CLIENT / WS_NO_SERVER: the left-out role's functions are gone.
# A missing arm-none-eabi-gcc fails the test (CI installs it).
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
host_cc=${1:-cc}
out=${2:-$root/build/embedded-symbols}
mkdir -p "$out" || exit 1
emb=$root/examples/embedded
inc=${WS_H_DIR:-$root}
ARM_CC=${ARM_CC:-arm-none-eabi-gcc}
WARN="-std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wconversion"
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL: $*"
}

# Compiler support routines a freestanding object may call (libgcc).
helper_re='^(__aeabi_(u?idiv|u?idivmod|u?ldivmod|llsl|llsr|lasr|lmul|u?lcmp)|__gnu_thumb1_case_[a-z]+|__(u?div|u?mod|udivmod)[sdt]i[34]|__(clz|ctz|popcount|parity|bswap|ashl|ashr|lshr)[sd]i[23])$'
libc_five='^(memcpy|memmove|memset|memcmp|strlen)$'
own_five='^fw_(memcpy|memmove|memset|memcmp|strlen)$'
# Headers ws.h may include: the freestanding ones, <string.h> unless all
# five are overridden, and the compiler's own SIMD intrinsics (x86 SSE2/AVX2,
# AArch64 NEON: part of the compiler, not of the C library).
hdr_own='^(stddef\.h|stdint\.h|[a-z]*intrin\.h|arm_neon\.h|arm_acle\.h)$'
hdr_libc='^(string\.h|stddef\.h|stdint\.h|[a-z]*intrin\.h|arm_neon\.h|arm_acle\.h)$'

targets="host"
if command -v "$ARM_CC" >/dev/null 2>&1; then
    targets="$targets cortex-m0plus cortex-m4"
else
    bad "$ARM_CC not found (Debian: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi)"
fi
if ! command -v "$host_cc" >/dev/null 2>&1; then
    bad "host compiler $host_cc not found"
    targets=${targets#host}
fi

for target in $targets; do
    if [ "$target" = host ]; then
        cc=$host_cc
        nm=nm
        arch=""
    else
        cc=$ARM_CC
        nm=${ARM_CC%gcc}nm
        arch="-mcpu=$target -mthumb"
    fi
    helpers_seen=""
    # name;source;flags;allowed-libc-regex;allowed-headers-regex
    while IFS=';' read -r name src flags allowed headers; do
        [ -n "$name" ] || continue
        obj="$out/$target-$name.o"
        # -H lists every header opened, one per line, dots giving the depth.
        # shellcheck disable=SC2086
        if ! log=$($cc $arch -Os -ffunction-sections -fdata-sections -ffreestanding -fno-stack-protector \
            $WARN -Werror -H -I"$inc" $flags -c "$emb/$src" -o "$obj" 2>&1); then
            bad "$target $name: does not compile"
            echo "$log" | grep -Ev "^(\.|Multiple include|/)" | head -20
            continue
        fi
        # Headers ws.h itself includes (depth 1 from ws.h, which is depth 1
        # of the source file: so lines with exactly two dots).
        top=$(echo "$log" | awk '/^\.\. / { n = $2; sub(/.*\//, "", n); print n }' | sort -u | tr '\n' ' ')
        extra_hdr=$(for h in $top; do echo "$h"; done | grep -Ev "$headers" | tr '\n' ' ')
        if [ -n "$extra_hdr" ]; then
            bad "$target $name: ws.h includes $extra_hdr"
        else
            ok
        fi
        undef=$($nm -u "$obj" | awk '{ print $NF }' | sort -u)
        unexpected=""
        for s in $undef; do
            if echo "$s" | grep -Eq "$helper_re"; then
                case " $helpers_seen " in *" $s "*) ;; *) helpers_seen="$helpers_seen $s" ;; esac
            elif ! echo "$s" | grep -Eq "$allowed"; then
                unexpected="$unexpected $s"
            fi
        done
        if [ -n "$unexpected" ]; then
            bad "$target $name: refers to$unexpected"
        else
            ok
        fi
        printf '  %-14s %-10s needs: %s\n' "$target" "$name" "$(echo "$undef" | grep -Ev "$helper_re" | tr '\n' ' ')"
        # Role macros: the left-out role's entry points must be gone.
        defined=$($nm --defined-only -g "$obj" | awk '{ print $NF }')
        case $name in
        no-client) gone="ws_client_start ws_request_build ws_response_parse" kept="ws_server_start ws_request_parse" ;;
        no-server) gone="ws_server_start ws_request_parse ws_response_build ws_error_response_build" kept="ws_client_start ws_response_parse" ;;
        both) gone="" kept="ws_server_start ws_client_start ws_pump ws_feed ws_send" ;;
        *) gone="" kept="" ;;
        esac
        for s in $gone; do
            if echo "$defined" | grep -qx "$s"; then bad "$target $name still defines $s"; else ok; fi
        done
        for s in $kept; do
            if echo "$defined" | grep -qx "$s"; then ok; else bad "$target $name lacks $s"; fi
        done
    done <<EOF
both;ws_impl.c;;$libc_five;$hdr_libc
no-client;ws_impl.c;-DWS_NO_CLIENT;$libc_five;$hdr_libc
no-server;ws_impl.c;-DWS_NO_SERVER;$libc_five;$hdr_libc
own-libc;ws_impl_own_libc.c;;$own_five;$hdr_own
EOF
    printf '  %-14s compiler support routines used: %s\n' "$target" "${helpers_seen:- none}"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
