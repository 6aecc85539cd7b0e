// Package storagetest is the conformance suite that every storage.Store
// backend passes, so that code written against storage.Store behaves the same
// on a local directory and on S3. A backend's test calls Run with a function
// that makes an empty store.
package storagetest
