package console

// opsMessages are the strings of the customer, silence, incident and dead-letter pages.
func opsMessages() map[string]Message {
	return map[string]Message{}
}
