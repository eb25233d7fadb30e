module github.com/pagelab/pagelab

go 1.26

require github.com/montanaflynn/stats v0.14.0
