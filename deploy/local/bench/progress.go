package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progress draws "[=====>     ] 120/500  80.1 sign-ins/s" in place, a few
// times a second, so a long run shows it is alive without flooding a log.
type progress struct {
	w     io.Writer
	total int
}

func newProgress(w io.Writer, total int) *progress { return &progress{w: w, total: total} }

const barWidth = 30

func (p *progress) draw(done int, elapsed time.Duration) {
	filled := barWidth * done / max(p.total, 1)
	bar := strings.Repeat("=", filled)
	if filled < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-filled-1)
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	fmt.Fprintf(p.w, "\r[%s] %d/%d  %.1f sign-ins/s ", bar, done, p.total, rate)
}

// run redraws until the returned stop is called, which draws the final
// state and ends the line.
func (p *progress) run(done *atomic.Int64) (stop func()) {
	if p.w == nil {
		return func() {}
	}
	start := time.Now()
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				p.draw(int(done.Load()), time.Since(start))
			case <-quit:
				return
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
		p.draw(int(done.Load()), time.Since(start))
		fmt.Fprintln(p.w)
	}
}
