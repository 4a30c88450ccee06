// Command vcdns-probe is the program of the landscape's test image and of its sandbox
// (pause) image. Each subcommand does one thing a Pod of a test does, and prints its
// result on one line, to stdout and to /dev/termination-log, so that a test reads it
// from the Pod's status without a connection to the node:
//
//	vcdns-probe pause                     sleep until SIGTERM, reaping children (the sandbox)
//	vcdns-probe serve [-addr :8080]       answer every HTTP request with who served it
//	vcdns-probe get [-host H] [-insecure] URL   fetch URL through the Pod's resolv.conf
//	vcdns-probe lookup [-type T] [-want R] NAME   resolve NAME through the Pod's resolv.conf
//	vcdns-probe lookup -watch D NAME      resolve NAME for D, printing each change with its time
//
// get and lookup retry until their -timeout, so that a Pod started before its answer
// exists still reports it (lookup -want: until its report is exactly R); they exit 1
// with the last error when it never comes.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: vcdns-probe pause|serve|get|lookup [flags] [args]")
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "pause":
		pause()
		return
	case "serve":
		err = serve(args)
	case "get":
		err = get(args)
	case "lookup":
		err = lookup(args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		report("error: " + err.Error())
		os.Exit(1)
	}
}

// report prints the result line and leaves it as the container's termination message.
func report(line string) {
	fmt.Println(line)
	_ = os.WriteFile("/dev/termination-log", []byte(line+"\n"), 0o644)
}

// pause is the sandbox: PID 1 of every Pod, it reaps what is re-parented to it and
// exits on SIGTERM or SIGINT.
func pause() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		if s != syscall.SIGCHLD {
			return
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}

// Who is the answer of serve: the Pod (POD_NAME from the downward API, else the host
// name) and what the request asked for.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", ":8080", "address to listen on")
	_ = fs.Parse(args)
	name := os.Getenv("POD_NAME")
	if name == "" {
		name, _ = os.Hostname()
	}
	srv := &http.Server{
		Addr:              *addr,
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "served-by=%s pod-ip=%s host=%s path=%s\n", name, os.Getenv("POD_IP"), r.Host, r.URL.Path)
		}),
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Printf("serving %s as %s\n", *addr, name)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// get fetches a URL and reports "status=<code> remote=<ip:port> body=<first line>".
func get(args []string) error {
	fs := flag.NewFlagSet("get", flag.ExitOnError)
	host := fs.String("host", "", "Host header to send (default: the URL's host)")
	timeout := fs.Duration("timeout", 30*time.Second, "keep trying until this long has passed")
	insecure := fs.Bool("insecure", false, "do not verify the server's certificate")
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		return errors.New("get needs one URL")
	}
	url := fs.Arg(0)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: *insecure} //nolint:gosec // a test probe, asked to
	client := &http.Client{Timeout: 3 * time.Second, Transport: transport}
	return retry(*timeout, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if *host != "" {
			req.Host = *host
		}
		var remote string
		req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { remote = i.Conn.RemoteAddr().String() },
		}))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 2048))
		if err != nil {
			return err
		}
		line := fmt.Sprintf("status=%d remote=%s body=%s", resp.StatusCode, remote, strings.Join(strings.Fields(string(body)), " "))
		if resp.StatusCode/100 != 2 {
			return errors.New(line)
		}
		report(line)
		return nil
	})
}

// lookup resolves a name with Go's own resolver, which reads /etc/resolv.conf (its
// nameservers, search list and ndots) as the C library does, and reports the answers
// sorted: "A 10.0.0.1 10.0.0.2", "SRV 0 50 80 web-0.web.default.svc.cluster.local."
func lookup(args []string) error {
	fs := flag.NewFlagSet("lookup", flag.ExitOnError)
	typ := fs.String("type", "A", "A, AAAA or SRV")
	timeout := fs.Duration("timeout", 30*time.Second, "keep trying until this long has passed")
	want := fs.String("want", "", "keep trying until the report is exactly this")
	watch := fs.Duration("watch", 0, "instead: resolve every 100 ms for this long, printing each change of the answer as a line \"at=<RFC 3339 time> <report or error>\" (to stdout only)")
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		return errors.New("lookup needs one name")
	}
	name := fs.Arg(0)
	r := &net.Resolver{PreferGo: true}
	resolve := func(ctx context.Context) (string, error) {
		var answers []string
		switch strings.ToUpper(*typ) {
		case "A", "AAAA":
			network := "ip4"
			if strings.EqualFold(*typ, "AAAA") {
				network = "ip6"
			}
			ips, err := r.LookupIP(ctx, network, name)
			if err != nil {
				return "", err
			}
			for _, ip := range ips {
				answers = append(answers, ip.String())
			}
		case "SRV":
			_, srvs, err := r.LookupSRV(ctx, "", "", name)
			if err != nil {
				return "", err
			}
			for _, s := range srvs {
				answers = append(answers, fmt.Sprintf("%d/%d/%d/%s", s.Priority, s.Weight, s.Port, s.Target))
			}
		default:
			return "", fmt.Errorf("unknown type %q", *typ)
		}
		slices.Sort(answers)
		return strings.ToUpper(*typ) + " " + strings.Join(answers, " "), nil
	}
	if *watch > 0 {
		watchLookups(*watch, resolve)
		return nil
	}
	return retry(*timeout, func(ctx context.Context) error {
		line, err := resolve(ctx)
		if err != nil {
			return err
		}
		if *want != "" && line != *want {
			return fmt.Errorf("got %q, want %q", line, *want)
		}
		report(line)
		return nil
	})
}

// watchLookups resolves every 100 ms for d and prints each change of the answer with
// the time it was first seen, so that a test can tell when a running Pod saw a change.
func watchLookups(d time.Duration, resolve func(context.Context) (string, error)) {
	last := ""
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		line, err := resolve(ctx)
		cancel()
		if err != nil {
			line = "error=" + err.Error()
		}
		if line != last {
			fmt.Printf("at=%s %s\n", time.Now().UTC().Format(time.RFC3339Nano), line)
			last = line
		}
	}
}

// retry calls f until it succeeds or timeout has passed, and returns its last error.
func retry(timeout time.Duration, f func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := f(ctx)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}
