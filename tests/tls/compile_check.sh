#!/bin/sh
# Compiles ws.h's implementation with and without WS_MBEDTLS (and with
# WS_STATIC, WS_NO_SOCKETS, WS_NO_CLIENT, WS_NO_SERVER beside it) as C99
# and as C++ with gcc and clang at our warning flags plus -Werror, and links
# each program. Usage: compile_check.sh REPO_ROOT
ROOT=${1:-.}
W="-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror"
LIBS="-lmbedtls -lmbedx509 -lmbedcrypto"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ws-tls-cc.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
printf '#define WS_IMPLEMENTATION\n#include "ws.h"\nint main(void) { return ws_strerror(WS_E_TLS)[0] == 0; }\n' >"$TMP/tu.c"
cp "$TMP/tu.c" "$TMP/tu.cpp"
pass=0 fail=0
for cc in gcc clang g++ clang++; do
    if ! command -v $cc >/dev/null 2>&1; then
        echo "FAIL: $cc not found"
        fail=$((fail + 1))
        continue
    fi
    case $cc in
    *++) src=$TMP/tu.cpp std="-x c++" variants='""|-DWS_MBEDTLS|-DWS_MBEDTLS -DWS_STATIC' ;;
    *) src=$TMP/tu.c std="-std=c99"
       variants='""|-DWS_MBEDTLS|-DWS_MBEDTLS -DWS_STATIC|-DWS_MBEDTLS -DWS_NO_SOCKETS|-DWS_MBEDTLS -DWS_NO_CLIENT|-DWS_MBEDTLS -DWS_NO_SERVER' ;;
    esac
    IFS='|'
    set -f
    for defs in $variants; do
        unset IFS
        [ "$defs" = '""' ] && defs=""
        if $cc $std $W $defs -I"$ROOT" "$src" -o "$TMP/tu" $LIBS >"$TMP/log" 2>&1; then
            pass=$((pass + 1))
        else
            echo "FAIL: $cc $defs"
            head -30 "$TMP/log"
            fail=$((fail + 1))
        fi
        IFS='|'
    done
    unset IFS
    set +f
done
# Without WS_MBEDTLS nothing of mbedTLS may be referenced.
if gcc -std=c99 $W -I"$ROOT" "$TMP/tu.c" -o "$TMP/tu" >"$TMP/log" 2>&1 && ! nm "$TMP/tu" | grep -q mbedtls; then
    pass=$((pass + 1))
else
    echo "FAIL: a build without WS_MBEDTLS refers to mbedTLS"
    fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
