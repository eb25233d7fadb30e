module github.com/pagelab/pagelab

go 1.26
