// The shipped binary starts with JavaScriptCore's tier-up thresholds scaled up a thousandfold
// (scripts/compile.sh, --compile-jit-policy): a one-shot is over before compiling its code
// would pay (discover --first: ~2 ms less, most of it the JIT threads' work on a 2-core
// machine), and an idle daemon never pages in the optimizing compilers (~4 MB of RSS).
// The commands that run one loop over thousands of packets call this first to be compiled
// as usual. From source and from the npm bundle the policy is already the normal one.

export function compileHotCode(): void {
  (Bun.unsafe as { setJITPolicy?: (scale: number) => void }).setJITPolicy?.(1);
}
