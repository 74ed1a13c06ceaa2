package otplocal

// LogGroup is the CloudWatch Logs group of otp-local's function fn
// ("create", "mailer", …): Lambda's default /aws/lambda/<FunctionName>,
// with the function names otp-local's Lambda API and rotation ARN use
// (otp-mailer, otp-rotate). otpctl trace's default groups are these.
func LogGroup(fn string) string { return "/aws/lambda/otp-" + fn }
