package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// A record is one event on disk:
//
//	length  uint32, big-endian: payload bytes
//	crc     uint32, big-endian: CRC-32C (Castagnoli) of the payload
//	payload the serialized eventv1.Event
//
// The checksum covers only the payload. A torn length shows up as a payload
// running past the end of the file or failing its checksum.
const recordHeaderBytes = 8

// MaxRecordBytes caps one serialized event. It keeps every event far below
// the bridge frame limit, so any single event can always be sent. Decoys
// cap attacker-controlled fields well below it.
const MaxRecordBytes = 1 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Record decoding errors.
var (
	// errTornRecord means the data ends inside a record: a crash during a
	// write that was never acknowledged.
	errTornRecord = errors.New("torn record")
	// errCorruptRecord means a record is complete but its length or
	// checksum is invalid.
	errCorruptRecord = errors.New("corrupt record")
)

// appendRecord appends the record of payload to dst.
func appendRecord(dst, payload []byte) []byte {
	var header [recordHeaderBytes]byte
	binary.BigEndian.PutUint32(header[0:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(header[4:8], crc32.Checksum(payload, castagnoli))
	dst = append(dst, header[:]...)
	return append(dst, payload...)
}

// parseHeader returns the payload length and checksum of a record header.
func parseHeader(header []byte) (length int, sum uint32, err error) {
	if len(header) < recordHeaderBytes {
		return 0, 0, errTornRecord
	}
	n := binary.BigEndian.Uint32(header[0:4])
	if n > MaxRecordBytes {
		return 0, 0, fmt.Errorf("%w: length %d exceeds %d", errCorruptRecord, n, MaxRecordBytes)
	}
	return int(n), binary.BigEndian.Uint32(header[4:8]), nil
}

// checkPayload verifies payload against the checksum from its header.
func checkPayload(payload []byte, sum uint32) error {
	if got := crc32.Checksum(payload, castagnoli); got != sum {
		return fmt.Errorf("%w: checksum %08x, header says %08x", errCorruptRecord, got, sum)
	}
	return nil
}

// decodeRecord returns the payload of the record at the start of b and the
// record's total size.
func decodeRecord(b []byte) (payload []byte, size int, err error) {
	length, sum, err := parseHeader(b)
	if err != nil {
		return nil, 0, err
	}
	if len(b)-recordHeaderBytes < length {
		return nil, 0, errTornRecord
	}

	payload = b[recordHeaderBytes : recordHeaderBytes+length]
	if err := checkPayload(payload, sum); err != nil {
		return nil, 0, err
	}
	return payload, recordHeaderBytes + length, nil
}
