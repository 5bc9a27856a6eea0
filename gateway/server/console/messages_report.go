package console

// reportMessages are the strings of issue #10's ROI report and experiments (dashboard) in both languages.
func reportMessages() map[string]Message {
	return map[string]Message{}
}
