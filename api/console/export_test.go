package console

// Patterns lists every route the console registers, so that the tests can
// check that each one refuses other roles.
func (c *Console) Patterns() []string { return append([]string(nil), c.patterns...) }
