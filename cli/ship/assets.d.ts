// `import path from "x.so" with { type: "file" }`: Bun hands over the file's path (inside a
// compiled binary, a /$bunfs/ path).
declare module "*.so" {
  const path: string;
  export default path;
}

// The privileged helper, an executable with no extension (native/build/dhcptool-priv).
declare module "*/dhcptool-priv" {
  const path: string;
  export default path;
}
