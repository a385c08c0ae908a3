module github.com/perfobs/perfobs-go/internal/browsertest

go 1.26.0

replace github.com/perfobs/perfobs-go => ../..

require (
	github.com/chromedp/chromedp v0.23.1
	github.com/perfobs/perfobs-go v0.0.0-00010101000000-000000000000
)

require (
	github.com/chromedp/cdproto v0.160.1 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	go.uber.org/goleak v1.3.0 // indirect
)
