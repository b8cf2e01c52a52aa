#!/bin/sh
# The source lines a fuzz target's corpora reach.
#
#   t/fuzz/coverage.sh BUILD NAME...
#
# Builds each target NAME (fuzz_twilio, ...) with clang's source-based
# coverage into BUILD/fuzz-cov/, runs it once over its kept corpus
# (t/fuzz/corpus/NAME/) and its working one (BUILD/fuzz/NAME.corpus, if
# a run of make fuzz left one), and prints, for each src/voice_*.c file
# it reaches, the lines executed of the lines it has.  llvm-cov show with
# the same -instr-profile shows which.

for tool in llvm-profdata llvm-cov; do
    command -v $tool > /dev/null \
        || { echo "coverage: no $tool (Debian: the llvm package)" >&2; exit 1; }
done

build=$1
shift
out=$build/fuzz-cov
mkdir -p "$out"

for name in "$@"; do
    bin=$out/$name
    clang -g -O0 -fsanitize=fuzzer -fprofile-instr-generate \
        -fcoverage-mapping -Isrc -o "$bin" "t/fuzz/$name.c" src/voice_*.c \
        -lyajl -lcrypto -lspeexdsp -lm || exit 1

    # the first directory is where libFuzzer would write: an empty one
    rm -rf "$bin.empty" "$bin.profraw"
    mkdir -p "$bin.empty"
    dirs="$bin.empty t/fuzz/corpus/$name"
    [ -d "$build/fuzz/$name.corpus" ] && dirs="$dirs $build/fuzz/$name.corpus"
    LLVM_PROFILE_FILE=$bin.profraw "$bin" -runs=0 $dirs > "$bin.log" 2>&1 \
        || { tail -20 "$bin.log"; exit 1; }
    llvm-profdata merge -o "$bin.profdata" "$bin.profraw" || exit 1

    # "voice_x.c  regions missed cover  functions missed executed
    #  lines missed cover ..." of llvm-cov report, the files as paths
    #  or relative to the files' common directory
    llvm-cov report "$bin" -instr-profile="$bin.profdata" src/voice_*.c \
        | awk -v t="$name" '$1 ~ /voice_[a-z0-9_]*\.c$/ && $8 > $9 {
              sub(/.*\//, "", $1)
              printf "%s: src/%s lines %d/%d (%s)\n", t, $1, $8 - $9, $8, $10
          }'
done
