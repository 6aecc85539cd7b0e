// Package localdir is a storage.Store on a directory, for `blindpack process`
// and `blindpack demo`, which run without an object store.
//
// An object is a plain file at its key below the root, so a person can open a
// packet with any PDF viewer. Its content type is kept beside it in a hidden
// sidecar file. Names whose first characters are ".blindpack-" are the
// store's own (temporary files and sidecars): keys with such a segment are
// refused and List never shows them.
//
// Every path is resolved through an os.Root, so neither a key nor a symbolic
// link placed in the directory can reach a file outside it.
package localdir
