package broker

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluicedata/sluice/broker/storage"
)

// storageErrorCode maps a storage error to the Kafka error code a client
// expects.
func storageErrorCode(err error) int16 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, storage.ErrBatchTooLarge):
		return kerr.MessageTooLarge.Code
	case errors.Is(err, storage.ErrCorruptBatch), errors.Is(err, storage.ErrUnsupportedMag):
		return kerr.CorruptMessage.Code
	case errors.Is(err, storage.ErrInvalidRecord):
		return kerr.InvalidRecord.Code
	case errors.Is(err, storage.ErrOutOfOrderSequence):
		return kerr.OutOfOrderSequenceNumber.Code
	case errors.Is(err, storage.ErrInvalidProducerEpoch):
		return kerr.InvalidProducerEpoch.Code
	case errors.Is(err, storage.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange.Code
	case errors.Is(err, storage.ErrClosed):
		return kerr.NotLeaderForPartition.Code // retriable: the partition is going away or the broker is stopping
	default:
		return kerr.KafkaStorageError.Code
	}
}

// errorCode is the Kafka code of a kerr error (0 for nil, UNKNOWN_SERVER_ERROR
// for anything else).
func errorCode(err error) int16 {
	if err == nil {
		return 0
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

func errMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}
