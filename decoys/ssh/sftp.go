package ssh

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/decnet/decnet/decoys"
	"github.com/decnet/decnet/decoys/quarantine"
	eventv1 "github.com/decnet/decnet/gen/decnet/event/v1"
)

// This file is the sftp subsystem of a session: enough of
// SFTP version 3 (draft-ietf-secsh-filexfer-02) as OpenSSH 9.2's
// sftp-server speaks it for sftp and scp (which uses SFTP since OpenSSH
// 9.0) to upload files, which go to the quarantine and are reported as
// file.captured. Reads find nothing: the decoy has no file system to
// show, so every existing-file lookup but the home directory fails with
// "No such file".

// SFTP packet types and status codes.
const (
	fxpInit          = 1
	fxpVersion       = 2
	fxpOpen          = 3
	fxpClose         = 4
	fxpRead          = 5
	fxpWrite         = 6
	fxpLstat         = 7
	fxpFstat         = 8
	fxpSetstat       = 9
	fxpFsetstat      = 10
	fxpOpendir       = 11
	fxpReaddir       = 12
	fxpRemove        = 13
	fxpMkdir         = 14
	fxpRealpath      = 16
	fxpStat          = 17
	fxpStatus        = 101
	fxpHandle        = 102
	fxpName          = 104
	fxpAttrs         = 105
	fxpExtended      = 200
	fxpExtendedReply = 201

	fxOK            = 0
	fxEOF           = 1
	fxNoSuchFile    = 2
	fxFailure       = 4
	fxBadMessage    = 5
	fxOpUnsupported = 8

	// pflags bit SSH_FXF_WRITE.
	fxfWrite = 0x02
)

// sftpMaxMessage is sftp-server's SFTP_MAX_MSG_LENGTH; a longer message
// ends the subsystem.
const sftpMaxMessage = 256 * 1024

// sftpMaxHandles bounds the handles one session may hold open.
const sftpMaxHandles = 64

// sftpMaxName caps the file name recorded in file.captured.
const sftpMaxName = 256

var sftpStatusText = map[uint32]string{
	fxOK: "Success", fxEOF: "End of file", fxNoSuchFile: "No such file",
	fxFailure: "Failure", fxBadMessage: "Bad message", fxOpUnsupported: "Operation unsupported",
}

var errSFTPTooLong = errors.New("sftp message too long")

// sftpServer serves one sftp subsystem channel.
type sftpServer struct {
	ch      io.ReadWriter
	session *decoys.Session
	store   *quarantine.Store
	home    string
	now     func() time.Time

	handles    map[string]*sftpHandle
	nextHandle int
	// written are the paths uploaded in this session, with their sizes,
	// so that a stat after an upload finds the file.
	written map[string]uint64
}

// sftpHandle is an open file being written, or an open directory.
type sftpHandle struct {
	path string
	file *quarantine.File
	dir  bool
	done bool
}

func homeDir(user string) string {
	if user == "root" {
		return "/root"
	}
	return "/home/" + user
}

// serveSFTP runs the subsystem until the client closes the channel or
// sends a malformed message.
func serveSFTP(ctx context.Context, ch io.ReadWriter, session *decoys.Session, store *quarantine.Store, user string, now func() time.Time) error {
	s := &sftpServer{
		ch: ch, session: session, store: store, home: homeDir(user), now: now,
		handles: make(map[string]*sftpHandle), written: make(map[string]uint64),
	}
	defer s.closeAll()
	for ctx.Err() == nil {
		msg, err := s.read()
		if err != nil {
			return err
		}
		if err := s.handle(msg); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (s *sftpServer) read() ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(s.ch, head[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n > sftpMaxMessage || n < 1 {
		return nil, errSFTPTooLong
	}
	msg := make([]byte, n)
	_, err := io.ReadFull(s.ch, msg)
	return msg, err
}

func (s *sftpServer) send(msg []byte) error {
	out := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(msg)), uint32(len(msg)))
	_, err := s.ch.Write(append(out, msg...))
	return err
}

func (s *sftpServer) status(id, code uint32) error {
	b := binary.BigEndian.AppendUint32([]byte{fxpStatus}, id)
	b = binary.BigEndian.AppendUint32(b, code)
	b = appendSFTPString(b, sftpStatusText[code])
	return s.send(appendSFTPString(b, ""))
}

func appendSFTPString(b []byte, v string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// sftpReader decodes SFTP fields; the first shortfall sticks.
type sftpReader struct {
	b  []byte
	ok bool
}

func (r *sftpReader) uint32() uint32 {
	if !r.ok || len(r.b) < 4 {
		r.ok = false
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *sftpReader) uint64() uint64 {
	hi := uint64(r.uint32())
	return hi<<32 | uint64(r.uint32())
}

func (r *sftpReader) bytes() []byte {
	n := r.uint32()
	if !r.ok || uint64(n) > uint64(len(r.b)) {
		r.ok = false
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// resolve makes p absolute against the home directory, as sftp-server's
// working directory is the user's home.
func (s *sftpServer) resolve(p string) string {
	if p == "" || p == "." {
		return s.home
	}
	if !strings.HasPrefix(p, "/") {
		p = s.home + "/" + p
	}
	return path.Clean(p)
}

// attrs encodes file attributes: a directory for the few paths every
// Debian host has, a file for uploads, nothing for the rest.
func (s *sftpServer) attrs(p string) ([]byte, bool) {
	mtime := uint32(s.now().Unix())
	var size uint64
	var perm uint32
	switch p {
	case "/", "/tmp", "/home", "/root", "/var", "/etc", "/usr", s.home:
		perm = 0o40755
		if p == "/tmp" {
			perm = 0o41777
		}
		if p == "/root" {
			perm = 0o40700
		}
		size = 4096
	default:
		n, ok := s.written[p]
		if !ok {
			return nil, false
		}
		perm, size = 0o100644, n
	}
	uid := uint32(0)
	if s.home != "/root" && strings.HasPrefix(p, s.home) {
		uid = 1000
	}
	b := binary.BigEndian.AppendUint32(nil, 0x1|0x2|0x4|0x8)
	b = binary.BigEndian.AppendUint64(b, size)
	b = binary.BigEndian.AppendUint32(b, uid)
	b = binary.BigEndian.AppendUint32(b, uid)
	b = binary.BigEndian.AppendUint32(b, perm)
	b = binary.BigEndian.AppendUint32(b, mtime)
	return binary.BigEndian.AppendUint32(b, mtime), true
}

func (s *sftpServer) handle(msg []byte) error {
	typ := msg[0]
	r := &sftpReader{b: msg[1:], ok: true}
	if typ == fxpInit {
		return s.send(sftpVersion())
	}
	id := r.uint32()
	if !r.ok {
		return errSFTPTooLong
	}

	switch typ {
	case fxpRealpath:
		p := s.resolve(string(r.bytes()))
		b := binary.BigEndian.AppendUint32([]byte{fxpName}, id)
		b = binary.BigEndian.AppendUint32(b, 1)
		b = appendSFTPString(b, p)
		b = appendSFTPString(b, p)
		return s.send(binary.BigEndian.AppendUint32(b, 0))
	case fxpStat, fxpLstat:
		a, ok := s.attrs(s.resolve(string(r.bytes())))
		if !ok {
			return s.status(id, fxNoSuchFile)
		}
		return s.send(append(binary.BigEndian.AppendUint32([]byte{fxpAttrs}, id), a...))
	case fxpFstat:
		h := s.handles[string(r.bytes())]
		if h == nil {
			return s.status(id, fxFailure)
		}
		a, ok := s.attrs(h.path)
		if !ok {
			a = binary.BigEndian.AppendUint32(nil, 0)
		}
		return s.send(append(binary.BigEndian.AppendUint32([]byte{fxpAttrs}, id), a...))
	case fxpOpen:
		name := string(r.bytes())
		flags := r.uint32()
		if !r.ok {
			return s.status(id, fxBadMessage)
		}
		if flags&fxfWrite == 0 {
			return s.status(id, fxNoSuchFile)
		}
		return s.open(id, &sftpHandle{path: s.resolve(name), file: s.store.NewFile()})
	case fxpOpendir:
		p := s.resolve(string(r.bytes()))
		if _, ok := s.attrs(p); !ok {
			return s.status(id, fxNoSuchFile)
		}
		return s.open(id, &sftpHandle{path: p, dir: true})
	case fxpReaddir:
		h := s.handles[string(r.bytes())]
		if h == nil || !h.dir {
			return s.status(id, fxFailure)
		}
		if h.done {
			return s.status(id, fxEOF)
		}
		h.done = true
		return s.listDir(id, h.path)
	case fxpWrite:
		h := s.handles[string(r.bytes())]
		_ = r.uint64() // offset: sftp and scp write in order
		data := r.bytes()
		if !r.ok {
			return s.status(id, fxBadMessage)
		}
		if h == nil || h.file == nil {
			return s.status(id, fxFailure)
		}
		_, _ = h.file.Write(data)
		return s.status(id, fxOK)
	case fxpRead:
		return s.status(id, fxEOF)
	case fxpClose:
		handle := string(r.bytes())
		h := s.handles[handle]
		if h == nil {
			return s.status(id, fxFailure)
		}
		delete(s.handles, handle)
		s.finish(h)
		return s.status(id, fxOK)
	case fxpSetstat, fxpFsetstat, fxpMkdir:
		return s.status(id, fxOK)
	case fxpRemove:
		p := s.resolve(string(r.bytes()))
		if _, ok := s.written[p]; !ok {
			return s.status(id, fxNoSuchFile)
		}
		delete(s.written, p)
		return s.status(id, fxOK)
	case fxpExtended:
		if string(r.bytes()) == "limits@openssh.com" {
			b := binary.BigEndian.AppendUint32([]byte{fxpExtendedReply}, id)
			b = binary.BigEndian.AppendUint64(b, sftpMaxMessage)
			b = binary.BigEndian.AppendUint64(b, sftpMaxMessage-1024)
			b = binary.BigEndian.AppendUint64(b, sftpMaxMessage-1024)
			// RLIMIT_NOFILE 1024 minus sftp-server's reserve of 5.
			return s.send(binary.BigEndian.AppendUint64(b, 1019))
		}
	}
	return s.status(id, fxOpUnsupported)
}

// sftpVersion is the VERSION reply of OpenSSH 9.2p1's sftp-server, with
// its extensions in its order.
func sftpVersion() []byte {
	b := binary.BigEndian.AppendUint32([]byte{fxpVersion}, 3)
	for _, e := range [][2]string{
		{"posix-rename@openssh.com", "1"}, {"statvfs@openssh.com", "2"}, {"fstatvfs@openssh.com", "2"},
		{"hardlink@openssh.com", "1"}, {"fsync@openssh.com", "1"}, {"lsetstat@openssh.com", "1"},
		{"limits@openssh.com", "1"}, {"expand-path@openssh.com", "1"}, {"copy-data", "1"},
		{"home-directory", "1"}, {"users-groups-by-id@openssh.com", "1"},
	} {
		b = appendSFTPString(b, e[0])
		b = appendSFTPString(b, e[1])
	}
	return b
}

func (s *sftpServer) open(id uint32, h *sftpHandle) error {
	if len(s.handles) >= sftpMaxHandles {
		if h.file != nil {
			h.file.Close()
		}
		return s.status(id, fxFailure)
	}
	handle := fmt.Sprint(s.nextHandle)
	s.nextHandle++
	s.handles[handle] = h
	b := binary.BigEndian.AppendUint32([]byte{fxpHandle}, id)
	return s.send(appendSFTPString(b, handle))
}

// listDir names "." and ".." and the files uploaded into the directory.
func (s *sftpServer) listDir(id uint32, dir string) error {
	names := []string{".", ".."}
	for p := range s.written {
		if path.Dir(p) == dir {
			names = append(names, path.Base(p))
		}
	}
	b := binary.BigEndian.AppendUint32([]byte{fxpName}, id)
	b = binary.BigEndian.AppendUint32(b, uint32(len(names)))
	for _, n := range names {
		a, ok := s.attrs(path.Join(dir, n))
		if !ok {
			a, _ = s.attrs(dir)
		}
		b = appendSFTPString(b, n)
		b = appendSFTPString(b, n)
		b = append(b, a...)
	}
	return s.send(b)
}

// finish closes an uploaded file and reports it.
func (s *sftpServer) finish(h *sftpHandle) {
	if h.file == nil {
		return
	}
	res := h.file.Close()
	s.written[h.path] = res.Size
	name := h.path
	if len(name) > sftpMaxName {
		name = name[:sftpMaxName]
	}
	s.session.FileCaptured(&eventv1.FileCaptured{
		Sha256:    res.SHA256,
		Size:      res.Size,
		Truncated: res.Truncated,
		Name:      name,
		Channel:   "sftp",
	})
}

// closeAll reports uploads the client never closed.
func (s *sftpServer) closeAll() {
	for handle, h := range s.handles {
		delete(s.handles, handle)
		s.finish(h)
	}
}
