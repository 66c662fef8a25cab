package registry

// jsonCompatible reports why a reader JSON schema may reject documents valid
// under the writer schema. Placeholder until the JSON Schema rules land.
func jsonCompatible(reader, writer any) []string { return nil }
