// Package canary holds deployment examples that run `perfobs canary`: an Argo Rollouts
// AnalysisTemplate with the job provider (analysistemplate.yaml, used by rollout.yaml) and a
// Flagger Canary whose webhooks run it through flagger-loadtester (flagger-canary.yaml). Its test
// parses them and checks that every invocation is one the command accepts.
package canary
