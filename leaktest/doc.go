// Package leaktest checks tests for leaked goroutines.
package leaktest
