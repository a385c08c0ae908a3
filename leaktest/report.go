package leaktest

import (
	"fmt"
	"sort"
	"strings"
)

// maxIDs is how many goroutine ids a group lists before it abbreviates.
const maxIDs = 8

// LeakError reports leaked goroutines: the test, how many, and for each group of goroutines sharing one stack,
// how many, their state, the function and line that created them, their stack, and the test that started them
// when a pprof label says so.
type LeakError struct {
	// Test is the test that leaked; empty when the check covered all tests of the binary (VerifyTestMain, Find).
	Test string

	goroutines []goroutine
}

// Count is the number of leaked goroutines.
func (e *LeakError) Count() int { return len(e.goroutines) }

// Groups is the number of distinct stacks among the leaked goroutines.
func (e *LeakError) Groups() int { return len(group(e.goroutines)) }

// Error renders the report.
func (e *LeakError) Error() string {
	groups := group(e.goroutines)
	var b strings.Builder
	fmt.Fprintf(&b, "leaktest: %s: %s leaked (%s)\n", orBinary(e.Test),
		plural(len(e.goroutines), "goroutine"), plural(len(groups), "distinct stack"))
	ancestors := false
	for _, g := range groups {
		ancestors = ancestors || len(g.members[0].ancestors) > 0
		b.WriteByte('\n')
		g.render(&b, e.Test)
	}
	if !ancestors {
		b.WriteString("\nRun with GODEBUG=tracebackancestors=10 to see the stack that started each goroutine.\n")
	}
	return b.String()
}

// stackGroup is goroutines that share a stack and a creator.
type stackGroup struct {
	members []goroutine
}

// group sorts goroutines into groups by stack and creator, biggest group first.
func group(gs []goroutine) []*stackGroup {
	byKey := map[string]*stackGroup{}
	var groups []*stackGroup
	for _, g := range gs {
		k := stackKey(g)
		sg, ok := byKey[k]
		if !ok {
			sg = &stackGroup{}
			byKey[k] = sg
			groups = append(groups, sg)
		}
		sg.members = append(sg.members, g)
	}
	for _, sg := range groups {
		sort.Slice(sg.members, func(i, j int) bool { return sg.members[i].id < sg.members[j].id })
	}
	sort.SliceStable(groups, func(i, j int) bool {
		if len(groups[i].members) != len(groups[j].members) {
			return len(groups[i].members) > len(groups[j].members)
		}
		return groups[i].members[0].id < groups[j].members[0].id
	})
	return groups
}

// stackKey identifies a stack by its functions and lines, and its creator's; arguments, program counter offsets,
// goroutine ids and wait times differ between goroutines that leak from the same place.
func stackKey(g goroutine) string {
	var b strings.Builder
	for _, f := range g.frames {
		fmt.Fprintf(&b, "%s %s:%d\n", f.fn, f.file, f.line)
	}
	fmt.Fprintf(&b, "created by %s %s:%d", g.createdBy.fn, g.createdBy.file, g.createdBy.line)
	return b.String()
}

// render writes one group of a report on test. It names the tests that started the group's goroutines when the
// report covers the whole binary, or when they were started by a subtest rather than test itself.
func (sg *stackGroup) render(b *strings.Builder, test string) {
	first := sg.members[0]
	ids := make([]string, 0, maxIDs)
	for i, g := range sg.members {
		if i == maxIDs {
			ids = append(ids, fmt.Sprintf("and %d more", len(sg.members)-maxIDs))
			break
		}
		ids = append(ids, fmt.Sprint(g.id))
	}
	idWord := "id"
	if len(sg.members) > 1 {
		idWord = "ids"
	}
	fmt.Fprintf(b, "%s [%s] (%s %s)\n", plural(len(sg.members), "goroutine"), sg.states(), idWord, strings.Join(ids, ", "))
	if first.createdBy.fn == "" {
		b.WriteString("  created by the runtime\n")
	} else {
		fmt.Fprintf(b, "  created by %s%s\n", first.createdBy.fn, sg.creators())
		if first.createdBy.file != "" {
			fmt.Fprintf(b, "      %s:%d\n", first.createdBy.file, first.createdBy.line)
		}
	}
	if test == "" || sg.startedOutside(test) {
		fmt.Fprintf(b, "  started during %s\n", sg.tests(test))
	}
	b.WriteString("  stack, top first:\n")
	writeFrames(b, first.frames)
	for _, a := range first.ancestors {
		fmt.Fprintf(b, "  started from goroutine %d at:\n", a.id)
		writeFrames(b, a.frames)
	}
}

func writeFrames(b *strings.Builder, frames []frame) {
	for _, f := range frames {
		fmt.Fprintf(b, "    %s\n", f.fn)
		if f.file != "" {
			fmt.Fprintf(b, "        %s:%d\n", f.file, f.line)
		}
	}
}

// creators names the goroutines that created the group's goroutines, as " in goroutine 7" or
// " in goroutines 7, 9".
func (sg *stackGroup) creators() string {
	var ids []string
	seen := map[int]bool{}
	for _, g := range sg.members {
		if g.creator == 0 || seen[g.creator] {
			continue
		}
		seen[g.creator] = true
		if len(ids) == maxIDs {
			ids = append(ids, "...")
			break
		}
		ids = append(ids, fmt.Sprint(g.creator))
	}
	switch len(ids) {
	case 0:
		return ""
	case 1:
		return " in goroutine " + ids[0]
	}
	return " in goroutines " + strings.Join(ids, ", ")
}

// states lists the distinct states of the group's goroutines.
func (sg *stackGroup) states() string {
	var states []string
	seen := map[string]bool{}
	for _, g := range sg.members {
		if !seen[g.state] {
			seen[g.state] = true
			states = append(states, g.state)
		}
	}
	return strings.Join(states, ", ")
}

// startedOutside reports whether some of the group's goroutines carry a test label other than test.
func (sg *stackGroup) startedOutside(test string) bool {
	for _, g := range sg.members {
		if owner, ok := g.labels[LabelKey]; ok && owner != test {
			return true
		}
	}
	return false
}

// tests names the tests whose leaktest label the group's goroutines carry, in a report on test.
func (sg *stackGroup) tests(test string) string {
	counts := map[string]int{}
	for _, g := range sg.members {
		counts[g.labels[LabelKey]]++
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		label := n
		switch {
		case n == "" && test == "":
			label = "an unknown test (call leaktest.Check(t) in each test to name it)"
		case n == "":
			label = test + " or a parallel test without Check"
		}
		if len(names) > 1 {
			label = fmt.Sprintf("%s (%d)", label, counts[n])
		}
		parts = append(parts, label)
	}
	return strings.Join(parts, ", ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
