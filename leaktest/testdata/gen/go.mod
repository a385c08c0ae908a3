module github.com/perfobs/perfobs-go/leaktest/testdata/gen

go 1.26.0

require (
	github.com/golang/glog v1.2.5 // indirect
	go.opencensus.io v0.24.0 // indirect
)
