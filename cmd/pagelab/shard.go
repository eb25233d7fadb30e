package main

import (
	"strconv"

	"github.com/pagelab/pagelab/bench"
)

// resolveShard is the part of the run this process makes: -shard i/n; or
// else, inside a Slurm job array, SLURM_ARRAY_TASK_ID of
// SLURM_ARRAY_TASK_COUNT; or else, in a Kubernetes Indexed Job,
// JOB_COMPLETION_INDEX of -shards. nil: the whole run. getenv is
// os.Getenv (a parameter, for the tests).
func resolveShard(cmd, flag string, shards int, getenv func(string) string) (*bench.ShardID, error) {
	if shards < 0 || shards > bench.MaxShards {
		return nil, usagef("%s: -shards %d out of range (valid: 1 to %d)", cmd, shards, bench.MaxShards)
	}
	if flag != "" {
		id, err := bench.ParseShard(flag)
		if err != nil {
			return nil, usagef("%s: -shard: %v", cmd, err)
		}
		if shards != 0 && shards != id.Count {
			return nil, usagef("%s: -shard %s and -shards %d disagree", cmd, flag, shards)
		}
		return &id, nil
	}
	if task := getenv("SLURM_ARRAY_TASK_ID"); task != "" {
		count := getenv("SLURM_ARRAY_TASK_COUNT")
		id, err := bench.ParseShard(task + "/" + count)
		if err != nil {
			return nil, usagef("%s: SLURM_ARRAY_TASK_ID=%q of SLURM_ARRAY_TASK_COUNT=%q: %v (submit the array as --array=0-(n-1))", cmd, task, count, err)
		}
		if shards != 0 && shards != id.Count {
			return nil, usagef("%s: -shards %d, but the Slurm array has %d tasks", cmd, shards, id.Count)
		}
		return &id, nil
	}
	if shards == 0 {
		return nil, nil
	}
	index := getenv("JOB_COMPLETION_INDEX")
	if index == "" {
		return nil, usagef("%s: -shards %d without a shard index: give -shard i/%d, or run in a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm job array", cmd, shards, shards)
	}
	id, err := bench.ParseShard(index + "/" + strconv.Itoa(shards))
	if err != nil {
		return nil, usagef("%s: JOB_COMPLETION_INDEX=%q with -shards %d: %v", cmd, index, shards, err)
	}
	return &id, nil
}
