package httpdecoy

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
)

// maxChunkLine caps a chunk-size line with its extensions. nginx reads it
// from its header buffer, so a few KiB is generous.
const maxChunkLine = 4 << 10

// maxTrailerBytes caps the trailer section after the last chunk.
const maxTrailerBytes = 8 << 10

// errBodyTooLarge reports a body over the cap.
var errBodyTooLarge = errors.New("request body too large")

// errBadChunk reports malformed chunked framing.
var errBadChunk = errors.New("invalid chunked body")

// readBody reads the request body into memory, up to max bytes. It returns
// errBodyTooLarge, errBadChunk, or the reader's error when the input ends
// or times out.
func readBody(br *bufio.Reader, req *request, max int64) ([]byte, error) {
	switch {
	case req.chunked:
		return readChunked(br, max)
	case req.contentLength > max:
		return nil, errBodyTooLarge
	case req.contentLength > 0:
		body := make([]byte, req.contentLength)
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	return nil, nil
}

// readChunked decodes a chunked body (RFC 9112 section 7.1). Chunk
// extensions and trailer fields are read and dropped.
func readChunked(br *bufio.Reader, max int64) ([]byte, error) {
	var body []byte
	for {
		line, _, err := readLine(br, maxChunkLine, nil)
		if errors.Is(err, errLineTooLong) {
			return nil, errBadChunk
		}
		if err != nil {
			return nil, eofIsUnexpected(err)
		}
		sizeText, _, _ := strings.Cut(string(line), ";")
		sizeText = strings.TrimRight(sizeText, " \t")
		if sizeText == "" || len(sizeText) > 16 {
			return nil, errBadChunk
		}
		size, err := strconv.ParseInt(sizeText, 16, 64)
		if err != nil || size < 0 {
			return nil, errBadChunk
		}
		if size == 0 {
			return body, readTrailer(br)
		}
		if size > max-int64(len(body)) {
			return nil, errBodyTooLarge
		}

		start := len(body)
		body = append(body, make([]byte, size)...)
		if _, err := io.ReadFull(br, body[start:]); err != nil {
			return nil, eofIsUnexpected(err)
		}
		end, _, err := readLine(br, 0, nil)
		if err != nil && !errors.Is(err, errLineTooLong) {
			return nil, eofIsUnexpected(err)
		}
		if err != nil || len(end) != 0 {
			return nil, errBadChunk
		}
	}
}

func readTrailer(br *bufio.Reader) error {
	total := 0
	for {
		line, _, err := readLine(br, maxChunkLine, nil)
		if errors.Is(err, errLineTooLong) {
			return errBadChunk
		}
		if err != nil {
			return eofIsUnexpected(err)
		}
		total += len(line) + 2
		if total > maxTrailerBytes {
			return errBadChunk
		}
		if len(line) == 0 {
			return nil
		}
	}
}

func eofIsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
