//go:build !cgo || purego

package ocr

import "image"

const nativeScreen = false

func (s *screen) windowsNative(*image.Gray, image.Rectangle, float32) []window { return nil }

func rivalHitsNative([]vec, []int32, []float32, *templates) []bool { return nil }
