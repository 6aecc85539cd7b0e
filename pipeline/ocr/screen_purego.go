//go:build !cgo || purego

package ocr

import "image"

const nativeScreen = false

func (s *screen) windowsNative(*image.Gray, image.Rectangle) []window { return nil }
