package clarity

// SetSheetFinder turns the sheet finder on or off, for a test that shows
// what it changes.
func SetSheetFinder(on bool) { sheetFinder = on }
