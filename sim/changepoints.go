package sim

// changePoints are the change points of one execution of racy-step PCT
// (PCTRacy, and Greybox's genomes): point i falls just before racy step
// number step[i] of the tasks whose name has index name[i] (with change
// points over the whole execution, every point has name 0 and counts the
// execution's racy steps). A point is taken once; taking it drops the
// task about to take that step below every other task, by a priority that
// decreases with i (the caller's).
//
// The sampler asks, at each racy step, whether it is a change point. To
// answer without looking through the points, it keeps for every task the
// step number of its next point not yet taken (next), and looks again
// (take, then next) only when a task reaches that number. byName keeps
// each name's points in order of step, so that next looks through one
// name's few points, not the execution's.
type changePoints struct {
	step   []int
	name   []int
	taken  []bool
	byName [][]int // by name index: the points' indices, by step, then index
}

// reset empties the set for an execution.
func (c *changePoints) reset() {
	c.step, c.name, c.taken = c.step[:0], c.name[:0], c.taken[:0]
	for i := range c.byName {
		c.byName[i] = c.byName[i][:0]
	}
}

// add appends change point len(c.step): before racy step step of the
// tasks of name index name (>= 0).
func (c *changePoints) add(name, step int) {
	i := len(c.step)
	c.step, c.name, c.taken = append(c.step, step), append(c.name, name), append(c.taken, false)
	for len(c.byName) <= name {
		c.byName = append(c.byName, nil)
	}
	l := append(c.byName[name], i)
	// Insertion in order of step; a point added later goes after the
	// points of the same step.
	j := len(l) - 1
	for ; j > 0 && c.step[l[j-1]] > step; j-- {
		l[j] = l[j-1]
	}
	l[j] = i
	c.byName[name] = l
}

// next is the least step number from on of a point not yet taken of name
// index name, or -1 (also for a name with no points, or name < 0).
func (c *changePoints) next(name, from int) int {
	if name < 0 || name >= len(c.byName) {
		return -1
	}
	for _, i := range c.byName[name] {
		if !c.taken[i] && c.step[i] >= from {
			return c.step[i]
		}
	}
	return -1
}

// renext sets next[id], for every task id whose name index is name
// (names[id]), to its next point not yet taken from its local racy-step
// count on: after take, the points taken were those tasks'.
func (c *changePoints) renext(next, names, local []int, name int) {
	for id, nm := range names {
		if nm == name {
			next[id] = c.next(name, local[id])
		}
	}
}

// take takes every point not yet taken before racy step step of name
// index name and returns the highest index among them (the caller's
// priority for the task is that point's, the lowest: the points taken
// together are applied in order of index, the last one winning), or -1 if
// there is none.
func (c *changePoints) take(name, step int) int {
	last := -1
	if name < 0 || name >= len(c.byName) {
		return last
	}
	for _, i := range c.byName[name] {
		if c.step[i] > step {
			break
		}
		if c.step[i] == step && !c.taken[i] {
			c.taken[i] = true
			last = max(last, i)
		}
	}
	return last
}
