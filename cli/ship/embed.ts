// The files the compiled binary carries inside itself (native/assets.ts explains the table).
// Imported first by cli/ship/binary.ts, the entry point of `bun run compile`, and by nothing
// else: from source and from the npm bundle the shim is a file on disk.
//
// To embed another file (the privileged helper of issue 11): import it here `with { type:
// "file" }`, add it to the table, and ask materializeAsset(name, "exec") in native/shim.ts
// for a path execve() accepts.

import { embedAssets } from "../../native/assets.ts";
import { SHIM_ASSET } from "../../native/shim.ts";
import shimLibrary from "../../native/build/libdhcptool.so" with { type: "file" };

embedAssets({ [SHIM_ASSET]: shimLibrary });
