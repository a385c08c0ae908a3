package instrument

import "github.com/perfobs/perfobs-go/flightrecorder"

// FlightRecorder is the type of Config.FlightRecorder (middleware.WithFlightRecorder).
type FlightRecorder = *flightrecorder.Recorder
