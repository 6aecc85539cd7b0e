//go:build !cgo || purego

package clarity

func nativeKernels() bool { return false }

func nativePass1([]uint8, int, int, []uint16, []tile, int) levels { return levels{} }

func nativeEnergies([]uint16, int, int, []tile, int) (lap2, grad2, count [3]int64) { return }

func nativeInkCount([]uint16, int, int, []tile, int) int { return 0 }

func nativeCellSums([]uint8, int, int, *[hashGrid + 1]int, *[hashGrid][hashGrid]int) {}
