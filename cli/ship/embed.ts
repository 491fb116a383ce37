// The files the compiled binary carries inside itself (native/assets.ts explains the table).
// Imported first by cli/ship/binary.ts, the entry point of `bun run compile`, and by nothing
// else: from source and from the npm bundle the shim is a file on disk.
// The shim is dlopen'ed from a sealed memfd; the resident client's privileged helper is
// spawned from one (native/privsep.ts helperPath(): materializeAsset(name, "exec")).

import { embedAssets, HELPER_ASSET } from "../../native/assets.ts";
import { SHIM_ASSET } from "../../native/shim.ts";
import helperProgram from "../../native/build/dhcptool-priv" with { type: "file" };
import shimLibrary from "../../native/build/libdhcptool.so" with { type: "file" };

embedAssets({ [SHIM_ASSET]: shimLibrary, [HELPER_ASSET]: helperProgram });
