package console

// simMessages are the strings of issue #10's simulation (rules page) in both languages.
func simMessages() map[string]Message {
	return map[string]Message{}
}
